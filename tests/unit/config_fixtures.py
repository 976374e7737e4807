"""Where the config test files live and the environment they expect."""

from __future__ import annotations

from pathlib import Path

CONFIGS = Path(__file__).parent / "configs"
SECRETS = {
    "METRICS_TOKEN": "metrics-token-0123456789",
    "WALL_TOKEN": "wall-token-0123456789abcdef",
    "HANOI_TOKEN": "hanoi-token-0123456789abcdef",
    "WEBHOOK_SECRET": "webhook-signing-secret-42",
}
