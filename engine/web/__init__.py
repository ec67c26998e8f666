"""The web workbench (`compliance serve`): upload a sheet, read the findings, issue letters.

A Starlette application served by uvicorn (engine.web.app.create_app). Pages are Jinja2 templates in
engine/web/templates/; letters and notices are the shared GB/T 9704 templates of engine.render. See
docs/web.md.
"""
