"""/api/auth: thin routes over the account service."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from lectern.auth import service
from lectern.auth.deps import AuthConfigDep, CurrentUserId
from lectern.auth.schemas import LoginRequest, RefreshRequest, SignupRequest, TokenResponse, UserRead
from lectern.web.deps import SessionDep
from lectern.web.openapi import problem_responses

router = APIRouter(prefix="/api/auth", tags=["auth"])


@router.post("/signup", status_code=status.HTTP_201_CREATED, responses=problem_responses(409, 413, 422))
async def signup(body: SignupRequest, session: SessionDep, config: AuthConfigDep) -> TokenResponse:
    """Create an account and sign in."""
    return await service.signup(session, config, body)


@router.post("/login", responses=problem_responses(401, 413, 422, 429))
async def login(body: LoginRequest, session: SessionDep, config: AuthConfigDep) -> TokenResponse:
    """Sign in with email and password."""
    return await service.login(session, config, body)


@router.post("/refresh", responses=problem_responses(401, 413, 422))
async def refresh(body: RefreshRequest, session: SessionDep, config: AuthConfigDep) -> TokenResponse:
    """Trade a refresh token (single use) for a new access and refresh token."""
    return await service.refresh(session, config, body.refresh_token)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT, responses=problem_responses(413, 422))
async def logout(body: RefreshRequest, session: SessionDep) -> Response:
    """Revoke a refresh token and the sign-in it belongs to."""
    await service.logout(session, body.refresh_token)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/me", responses=problem_responses(401))
async def me(user_id: CurrentUserId, session: SessionDep) -> UserRead:
    """The signed-in reader's account."""
    return await service.get_me(session, user_id)
