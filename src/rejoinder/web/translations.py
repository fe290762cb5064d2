"""The scripts' strings in a language, as JSON, for the embed widget (and any script of ours):
generated from the same catalogues as the pages, so a translation is made once."""

from __future__ import annotations

import orjson
from fastapi import APIRouter, Request
from starlette.responses import Response

from rejoinder.web.deps import SiteDep
from rejoinder.web.i18n import Language, choose_language, script_strings

router = APIRouter(include_in_schema=False)


@router.get("/embed/i18n/{lang}.json")
async def strings_for_scripts(request: Request, lang: str, site: SiteDep) -> Response:
    """`{"lang", "strings"}`: each English text a script says (``_("...")`` in
    `web/static/*.js`) and its translation. A language we do not have gets the site's
    default, else English, and says which it is in ``lang``."""
    languages: dict[str, Language] = request.app.state.languages
    language = languages[choose_language(languages, requested=lang, site_language=site.language)]
    messages = request.app.state.script_messages
    body = {"lang": language.code, "strings": script_strings(language, messages)}
    return Response(
        orjson.dumps(body),
        media_type="application/json",
        headers={"Cache-Control": "public, max-age=300"},
    )
