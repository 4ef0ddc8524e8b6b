// A setting that cannot work: start-up stops with its message (hosts print it and exit, or answer
// every request with it under Functions).

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}
