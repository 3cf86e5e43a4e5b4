"""/api/docs: the OpenAPI document read as a page, rendered here (no script, no CDN)."""
from flask import Blueprint, current_app, render_template

from app.api import openapi_document

docs_bp = Blueprint("api_docs", __name__, url_prefix="/api")
METHODS = ("get", "post", "patch", "put", "delete")


@docs_bp.context_processor
def staff_page_context():
    from app.core.forms import ActionForm
    return {"logout_form": ActionForm(formdata=None)}


def _schema_name(schema):
    ref = (schema or {}).get("$ref") or (schema or {}).get("items", {}).get("$ref", "")
    return ref.rsplit("/", 1)[-1] or None


def _type(schema):
    """Say a JSON Schema's type the way a reader scans it: "integer", "string or null"."""
    kind = schema.get("type") or (_schema_name(schema) and "object " + _schema_name(schema))
    kind = " or ".join(kind) if isinstance(kind, list) else kind or "any"
    rules = [f"{key} {schema[key]}" for key in ("minimum", "maximum", "minLength", "maxLength")
             if key in schema]
    if "enum" in schema:
        rules.append("one of " + ", ".join(map(str, schema["enum"])))
    if schema.get("format"):
        rules.append(schema["format"])
    return kind + (f" ({'; '.join(rules)})" if rules else "")


def _operations(document):
    for path, item in document["paths"].items():
        for method in METHODS:
            if (operation := item.get(method)) is None:
                continue
            body = operation.get("requestBody", {}).get("content", {}).get(
                "application/json", {}).get("schema")
            yield {"method": method.upper(), "path": path,
                   "anchor": f"{method}-{path.strip('/').replace('/', '-')}",
                   "summary": operation.get("summary", ""),
                   "description": operation.get("description", ""),
                   "parameters": [(p["name"], p["in"], p.get("required", False),
                                   _type(p.get("schema", {})), p.get("description", ""))
                                  for p in operation.get("parameters", [])],
                   "body": _schema_name(body),
                   "responses": sorted((code, answer.get("description") or
                                        answer.get("$ref", "").rsplit("/", 1)[-1])
                                       for code, answer in operation["responses"].items())}


def _schemas(document):
    for name, schema in sorted(document["components"]["schemas"].items()):
        required = set(schema.get("required", []))
        yield name, [(field, _type(spec), field in required, spec.get("description", ""))
                     for field, spec in schema.get("properties", {}).items()]


@docs_bp.get("/docs")
def docs():
    """Every operation with its parameters and answers, and every object's fields."""
    document = openapi_document()
    return render_template("api/docs.html", document=document,
                           operations=list(_operations(document)),
                           schemas=list(_schemas(document)),
                           public_url=current_app.config["PUBLIC_URL"])
