"""`/readyz`: whether this worker can serve now (the database answers, Redis when
configured). `/healthz` (`web/pages.py`) only says the process is alive.

Every check runs at once, each with `PROBE_TIMEOUT` seconds: 200 with each check's outcome
when all pass, else 503 naming the checks that failed. Nothing but names, times and the kind
of each failure is said: no address, user or password of a backend.
"""

from __future__ import annotations

import asyncio

import orjson
from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from rejoinder.runtime import utcnow
from rejoinder.usecases.health import PROBE_TIMEOUT, Check, Outcome, readiness_checks, run_check
from rejoinder.web.deps import RuntimeDep

router = APIRouter()


async def _run(check: Check) -> Outcome:
    try:
        # A little over the probe's own timeout: a probe that ignores it still ends here.
        return await asyncio.wait_for(run_in_threadpool(run_check, check), PROBE_TIMEOUT + 0.5)
    except TimeoutError:
        return Outcome(check.name, False, PROBE_TIMEOUT + 0.5, "timeout")


@router.get("/readyz", include_in_schema=False)
async def readyz(rt: RuntimeDep) -> Response:
    outcomes = await asyncio.gather(
        *(_run(c) for c in readiness_checks(rt.db, rt.settings, utcnow))
    )
    failed = [o.name for o in outcomes if not o.ok]
    body: dict[str, object] = {
        "status": "unready" if failed else "ready",
        "checks": {o.name: o.as_json() for o in outcomes},
    }
    if failed:
        body["failed"] = failed
    return Response(
        orjson.dumps(body),
        status_code=503 if failed else 200,
        media_type="application/json",
        headers={"Cache-Control": "no-store"},
    )
