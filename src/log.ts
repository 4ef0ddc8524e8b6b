// A minimal levelled logger (LOG_LEVEL: debug, info, warning, error; LOG_FORMAT: text or json,
// one JSON object per line for log collectors). Never pass it a key or a prompt.

const LEVELS = { debug: 10, info: 20, warning: 30, error: 40 } as const;
type Level = keyof typeof LEVELS;

const configured = (process.env.LOG_LEVEL ?? 'info').toLowerCase().replace(/^warn$/, 'warning') as Level;
const threshold = LEVELS[configured] ?? LEVELS.info;
const json = (process.env.LOG_FORMAT ?? '').toLowerCase() === 'json';

function write(level: Level, message: string): void {
  if (LEVELS[level] < threshold) return;
  const line = json
    ? JSON.stringify({ time: new Date().toISOString(), level, message, service: 'aoai-simulator' })
    : `${new Date().toISOString()} ${level.toUpperCase()} ${message}`;
  (level === 'error' || level === 'warning' ? console.error : console.log)(line);
}

export const log = {
  debug: (m: string) => write('debug', m),
  info: (m: string) => write('info', m),
  warning: (m: string) => write('warning', m),
  error: (m: string) => write('error', m),
};
