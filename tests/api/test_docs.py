"""/api/docs: the OpenAPI document as a page, served by Kulak with no script."""
from bs4 import BeautifulSoup


def test_the_docs_page_lists_every_operation_and_object_without_script(client):
    document = client.get("/api/v1/openapi.json").get_json()
    page = client.get("/api/docs")
    assert page.status_code == 200 and page.mimetype == "text/html"
    soup = BeautifulSoup(page.text, "html.parser")
    headings = {h.get_text(" ", strip=True) for h in soup.select("section h2")}
    for path, item in document["paths"].items():
        for method in ("get", "post", "patch"):
            if method in item:
                assert f"{method.upper()} {path}" in headings
    objects = {h.get_text(strip=True) for h in soup.select("section h3")}
    assert set(document["components"]["schemas"]) == objects
    assert soup.find("script", src=lambda src: src and not src.startswith("/static/")) is None
    assert "Idempotency-Key" in page.text and "Bearer" in page.text


def test_an_unknown_api_address_is_a_problem_document_not_a_page(client):
    answer = client.get("/api/v1/no-such-thing")
    assert answer.status_code == 404 and answer.mimetype == "application/problem+json"
    assert answer.get_json()["title"] and answer.get_json()["detail"]
