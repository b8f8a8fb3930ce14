"""``/healthz``: is the store readable, which build is served."""

from fastapi import APIRouter, Request

router = APIRouter()


@router.get("/healthz", summary="Health and the build being served")
async def healthz(request: Request) -> dict:  # no I/O beyond a readlink: no thread hop
    info = request.app.state.kb.info()
    return {
        "status": "ok",
        "built_at": info.built_at,
        "triples": info.triples,
        "graphs": info.graphs,
        "store": info.build,
    }
