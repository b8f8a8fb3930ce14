"""``/``: what the knowledge base holds."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

router = APIRouter()


@router.get("/", response_class=HTMLResponse, summary="Home page")
def home(request: Request):
    templates = request.app.state.templates
    return templates.TemplateResponse(request, "home.html", {"info": request.app.state.kb.info()})
