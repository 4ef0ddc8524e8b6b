# One chat completion per task against the simulator, for Azure Load Testing (testType: Locust)
# and for local runs: locust -f loadtest/azure/locustfile.py --headless --host http://127.0.0.1:8000
# Settings come from the environment (each scenario's config.yaml sets them):
#   DEPLOYMENT, MAX_TOKENS, SIMULATOR_API_KEY (a Key Vault secret in Azure), API_VERSION,
#   WAIT_SECONDS (pause between a user's requests; default none).
import os

from locust import HttpUser, constant, task

DEPLOYMENT = os.environ.get("DEPLOYMENT", "gpt-35-turbo-unlimited")
MAX_TOKENS = int(os.environ.get("MAX_TOKENS", "100"))
API_KEY = os.environ.get("SIMULATOR_API_KEY", "")
API_VERSION = os.environ.get("API_VERSION", "2024-10-21")
PATH = f"/openai/deployments/{DEPLOYMENT}/chat/completions?api-version={API_VERSION}"
BODY = {
    "messages": [{"role": "user", "content": "Write a short greeting for the team, please."}],
    "max_tokens": MAX_TOKENS,
}


class ChatUser(HttpUser):
    wait_time = constant(float(os.environ.get("WAIT_SECONDS", "0")))

    @task
    def chat(self):
        # 429s count as failures: the limit scenarios expect many, and judge them by the
        # simulator's metrics rather than by the error rate.
        self.client.post(PATH, json=BODY, headers={"api-key": API_KEY}, name="chat")
