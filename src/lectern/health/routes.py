"""/api/health/ready and /api/health/env (liveness is in liveness.py, kept free of database imports)."""

from __future__ import annotations

import os
from typing import Any, Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from lectern import __version__
from lectern.contract import load_contract
from lectern.errors import AppError, ConfigError
from lectern.health.service import readiness
from lectern.web.deps import DatabaseDep, SettingsDep

router = APIRouter(prefix="/api/health", tags=["health"])


class ContractUnreadable(AppError):
    status_code = 503
    code = "contract_unreadable"
    title = "Environment contract unreadable"


HEALTH_JSON = "application/health+json"


class EnvVariableStatus(BaseModel):
    name: str
    required: bool
    present: bool
    valid: bool
    status: str
    reason: str


class EnvReport(BaseModel):
    """fail: a required variable is missing or invalid; warn: an optional one is invalid."""

    status: Literal["pass", "warn", "fail"]
    variables: list[EnvVariableStatus]


@router.get(
    "/ready",
    response_class=JSONResponse,
    responses={
        200: {"description": "pass or warn", "content": {HEALTH_JSON: {}}},
        503: {"description": "fail: database down or migrations behind", "content": {HEALTH_JSON: {}}},
    },
)
async def ready(database: DatabaseDep, settings: SettingsDep) -> JSONResponse:
    """Readiness: the database answers and its migrations are at the code's head."""
    report: dict[str, Any] = {"version": __version__}
    if settings.vercel_git_commit_sha:
        report["releaseId"] = settings.vercel_git_commit_sha
    report.update(await readiness(database.engine))
    status = 503 if report["status"] == "fail" else 200
    return JSONResponse(report, status_code=status, media_type=HEALTH_JSON)


@router.get("/env", responses={503: {"model": EnvReport, "description": "a required variable is missing or invalid"}})
async def env(settings: SettingsDep) -> JSONResponse:
    """Every contract variable: present, valid and a reason code; never a value."""
    try:
        contract = load_contract(os.environ)
    except ConfigError as exc:
        raise ContractUnreadable(str(exc)) from None
    checks = contract.validate(os.environ, production=settings.production)
    variables = [
        EnvVariableStatus(
            name=c.name, required=c.required, present=c.present, valid=c.ok, status=c.status, reason=c.reason
        )
        for c in checks
    ]
    if not all(c.ok for c in checks if c.required):
        status: Literal["pass", "warn", "fail"] = "fail"
    else:
        status = "pass" if all(c.ok for c in checks) else "warn"
    body = EnvReport(status=status, variables=variables)
    return JSONResponse(body.model_dump(), status_code=503 if status == "fail" else 200)
