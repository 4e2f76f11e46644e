"""A local emulator of the Vercel REST API subset Lectern and the Vercel CLI use, for tests and dev."""

from lectern.deploy.emulator.app import create_emulator_app
from lectern.deploy.emulator.clock import Clock, ManualClock, SystemClock
from lectern.deploy.emulator.errors import VercelError
from lectern.deploy.emulator.faults import Faults, ScriptedBuild, ScriptedResponse
from lectern.deploy.emulator.models import BuildTimings, Deployment, EnvVar, Project
from lectern.deploy.emulator.server import RunningEmulator, run_emulator, seeded_state, serve_emulator
from lectern.deploy.emulator.state import EmulatorState, RecordedRequest
from lectern.deploy.emulator.store import DEFAULT_TEAM_ID, DEFAULT_TOKEN, DEFAULT_USER_ID

__all__ = [
    "DEFAULT_TEAM_ID",
    "DEFAULT_TOKEN",
    "DEFAULT_USER_ID",
    "BuildTimings",
    "Clock",
    "Deployment",
    "EmulatorState",
    "EnvVar",
    "Faults",
    "ManualClock",
    "Project",
    "RecordedRequest",
    "RunningEmulator",
    "ScriptedBuild",
    "ScriptedResponse",
    "SystemClock",
    "VercelError",
    "create_emulator_app",
    "run_emulator",
    "seeded_state",
    "serve_emulator",
]
