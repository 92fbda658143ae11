"""Store helpers for tests: submit a graph to the store, review it, publish the calculator."""

from tests.graphs import import_calculator


def submission_body(graph: dict, **page) -> dict:
    return {
        "graph_id": graph["id"],
        "graph_version": graph["version"],
        "slug": "calculator",
        "name": "Calculator",
        "sub_heading": "Adds numbers",
        "description": "Doubles and adds numbers for you.",
        "instructions": "Give it a number.",
        "categories": ["math"],
        "image_urls": ["https://example.com/shot.png"],
        "video_url": "",
        **page,
    }


def submit(client, graph: dict, **page) -> dict:
    response = client.post("/api/v1/store/submissions", submission_body(graph, **page), format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def review(admin_client, submission: dict, *, approve: bool = True, comments: str = "", internal: str = "") -> dict:
    response = admin_client.post(
        f"/api/v1/store/admin/submissions/{submission['id']}/review",
        {"is_approved": approve, "comments": comments, "internal_comments": internal},
        format="json",
    )
    assert response.status_code == 200, response.json()
    return response.json()


def publish(client, admin_client, *, name: str = "Calculator", slug: str = "calculator", **page) -> dict:
    """Import the calculator, submit it and approve it; returns the approved submission."""
    graph = import_calculator(client)
    return review(admin_client, submit(client, graph, name=name, slug=slug, **page))
