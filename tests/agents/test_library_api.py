"""The library REST API: every graph a user creates or adds is in their library; listing,
organising, soft deletion, adding from the store, forking and updating to a newer store version."""

import uuid

import pytest

from agents.models import Graph, GraphVersion, LibraryAgent
from executions.models import ExecutionStatus, GraphExecution
from tests.accounts.test_auth_api import assert_error
from tests.clients import client_for
from tests.graphs import AGENT_INPUT, AGENT_OUTPUT, CALCULATOR, create_graph, import_calculator, link, node
from tests.submissions import publish, review, submit

pytestmark = pytest.mark.django_db

LIBRARY = "/api/v1/library/agents"


def adder(client, name: str = "Adder", b: float = 1) -> dict:
    nodes = [
        node("in", AGENT_INPUT, name="x"),
        node("calc", CALCULATOR, operation="Add", b=b),
        node("out", AGENT_OUTPUT, name="sum"),
    ]
    links = [link("in", "result", "calc", "a"), link("calc", "result", "out", "value")]
    return create_graph(client, nodes, links, name=name)


def entry_of(graph: dict) -> LibraryAgent:
    return LibraryAgent.objects.get(graph_id=graph["id"])


def names(page: dict) -> list[str]:
    return [agent["name"] for agent in page["results"]]


def add(client, store_listing_version_id):
    return client.post(LIBRARY, {"store_listing_version_id": store_listing_version_id}, format="json")


def save_new_version(client, graph_id: str, **changes) -> dict:
    current = client.get(f"/api/v1/graphs/{graph_id}").json()
    response = client.put(f"/api/v1/graphs/{graph_id}", {**current, **changes}, format="json")
    assert response.status_code == 200, response.json()
    return response.json()


def counts() -> dict[str, int]:
    return {
        "graphs": Graph.objects.count(),
        "versions": GraphVersion.objects.count(),
        "library": LibraryAgent.objects.count(),
    }


def run_of(graph_id) -> GraphExecution:
    graph = Graph.objects.get(id=graph_id)
    return GraphExecution.objects.create(
        user=graph.user, graph=graph, graph_version=graph.versions.get(), status=ExecutionStatus.COMPLETED
    )


@pytest.fixture
def three_agents(auth_client) -> list[dict]:
    """Alpha, Charlie and Delta created in that order; Delta renamed to Bravo in the library."""
    graphs = [adder(auth_client, name) for name in ["Alpha", "Charlie", "Delta"]]
    response = auth_client.patch(f"{LIBRARY}/{entry_of(graphs[2]).id}", {"name": "Bravo"}, format="json")
    assert response.status_code == 200, response.json()
    return graphs


@pytest.fixture
def published(creator_client, admin_client) -> dict:
    """ada's calculator, approved as version 1 of the store listing 'calculator'."""
    return publish(creator_client, admin_client, name="Calculator", slug="calculator")


class TestLibraryContents:
    def test_a_created_and_an_imported_graph_each_appear(self, auth_client, user):
        # given a graph built in the editor and an imported one
        built = adder(auth_client, "Adder")
        imported = import_calculator(auth_client)

        # when the user lists the library
        page = auth_client.get(LIBRARY).json()

        # then both are there, newest first, as the user's own
        assert page["count"] == 2
        assert [(a["graph_id"], a["name"]) for a in page["results"]] == [
            (imported["id"], "Calculator agent"),
            (built["id"], "Adder"),
        ]
        agent = page["results"][1]
        assert agent["id"] == str(entry_of(built).id)
        assert {key: agent[key] for key in agent if key not in ("id", "graph_id", "created_at", "updated_at")} == {
            "graph_version": 1,
            "name": "Adder",
            "description": "",
            "is_favorite": False,
            "is_archived": False,
            "forked_from_id": None,
            "store_source": None,
            "update_available": False,
            "latest_store_version": None,
        }
        assert set(LibraryAgent.objects.values_list("user_id", flat=True)) == {user.id}

    def test_another_users_library_is_not_shown(self, auth_client, other_user):
        adder(client_for(other_user), "Theirs")

        assert auth_client.get(LIBRARY).json() == {"count": 0, "next": None, "previous": None, "results": []}

    def test_search_matches_part_of_the_shown_name_ignoring_case(self, auth_client, three_agents):
        assert names(auth_client.get(f"{LIBRARY}?search=ALP").json()) == ["Alpha"]
        assert names(auth_client.get(f"{LIBRARY}?search=rav").json()) == ["Bravo"]
        assert names(auth_client.get(f"{LIBRARY}?search=delta").json()) == []  # shown as Bravo now

    def test_favorite_filter(self, auth_client, three_agents):
        auth_client.patch(f"{LIBRARY}/{entry_of(three_agents[1]).id}", {"is_favorite": True}, format="json")

        assert names(auth_client.get(f"{LIBRARY}?favorite=true&sort=name").json()) == ["Charlie"]
        assert names(auth_client.get(f"{LIBRARY}?favorite=false&sort=name").json()) == ["Alpha", "Bravo"]

    def test_archived_are_hidden_unless_asked_for(self, auth_client, three_agents):
        auth_client.patch(f"{LIBRARY}/{entry_of(three_agents[0]).id}", {"is_archived": True}, format="json")

        assert names(auth_client.get(f"{LIBRARY}?sort=name").json()) == ["Bravo", "Charlie"]
        assert names(auth_client.get(f"{LIBRARY}?archived=true&sort=name").json()) == ["Alpha"]
        assert names(auth_client.get(f"{LIBRARY}?archived=false&sort=name").json()) == ["Bravo", "Charlie"]

    def test_sorts(self, auth_client, three_agents):
        # Alpha changed last
        auth_client.patch(f"{LIBRARY}/{entry_of(three_agents[0]).id}", {"is_favorite": True}, format="json")

        def order(sort: str) -> list[str]:
            return names(auth_client.get(LIBRARY, {"sort": sort}).json())

        assert order("name") == ["Alpha", "Bravo", "Charlie"]
        assert order("-name") == ["Charlie", "Bravo", "Alpha"]
        assert order("created_at") == ["Alpha", "Charlie", "Bravo"]
        assert order("-created_at") == ["Bravo", "Charlie", "Alpha"]
        assert order("updated_at") == ["Charlie", "Bravo", "Alpha"]
        assert order("-updated_at") == ["Alpha", "Bravo", "Charlie"]
        assert names(auth_client.get(LIBRARY).json()) == ["Alpha", "Bravo", "Charlie"]  # default: -updated_at

    def test_an_unknown_sort_is_a_400_naming_sort(self, auth_client, three_agents):
        assert_error(auth_client.get(f"{LIBRARY}?sort=popularity"), 400, "validation_error", field="sort")

    @pytest.mark.parametrize("param", ["favorite", "archived"])
    def test_an_invalid_boolean_filter_is_a_400_naming_it(self, auth_client, three_agents, param):
        assert_error(auth_client.get(LIBRARY, {param: "maybe"}), 400, "validation_error", field=param)

    def test_a_nul_character_in_the_search_is_a_400_naming_search(self, auth_client, three_agents):
        assert_error(auth_client.get(LIBRARY, {"search": "a\x00b"}), 400, "validation_error", field="search")

    def test_pagination(self, auth_client, three_agents):
        first = auth_client.get(f"{LIBRARY}?sort=name&page_size=2").json()
        second = auth_client.get(first["next"]).json()

        assert (first["count"], names(first), first["previous"]) == (3, ["Alpha", "Bravo"], None)
        assert first["next"] == "http://testserver/api/v1/library/agents?page=2&page_size=2&sort=name"
        assert (second["count"], names(second), second["next"]) == (3, ["Charlie"], None)


class TestOrganise:
    def test_rename_favorite_and_archive(self, auth_client):
        graph = adder(auth_client, "Adder")
        url = f"{LIBRARY}/{entry_of(graph).id}"

        response = auth_client.patch(
            url, {"name": "  My adder ", "is_favorite": True, "is_archived": True}, format="json"
        )

        assert response.status_code == 200, response.json()
        assert (response.json()["name"], response.json()["is_favorite"], response.json()["is_archived"]) == (
            "My adder",
            True,
            True,
        )
        stored = entry_of(graph)
        assert (stored.name, stored.is_favorite, stored.is_archived) == ("My adder", True, True)
        assert auth_client.get(f"/api/v1/graphs/{graph['id']}").json()["name"] == "Adder"  # the graph keeps its name

    def test_leaving_fields_out_keeps_them(self, auth_client):
        graph = adder(auth_client, "Adder")
        url = f"{LIBRARY}/{entry_of(graph).id}"
        auth_client.patch(url, {"name": "Mine", "is_favorite": True}, format="json")

        response = auth_client.patch(url, {"is_archived": True}, format="json")

        assert (response.json()["name"], response.json()["is_favorite"], response.json()["is_archived"]) == (
            "Mine",
            True,
            True,
        )

    @pytest.mark.parametrize("blank", ["", "   "])
    def test_a_blank_name_falls_back_to_the_graphs_name(self, auth_client, blank):
        graph = adder(auth_client, "Adder")
        url = f"{LIBRARY}/{entry_of(graph).id}"
        auth_client.patch(url, {"name": "Mine"}, format="json")

        response = auth_client.patch(url, {"name": blank}, format="json")

        assert (response.status_code, response.json()["name"]) == (200, "Adder")
        assert entry_of(graph).name == ""

    @pytest.mark.parametrize(
        "body, field",
        [
            ({"is_favorite": "maybe"}, "is_favorite"),
            ({"is_archived": [True]}, "is_archived"),
            ({"name": "x" * 201}, "name"),
            ({"name": None}, "name"),
            ({"name": ["Mine"]}, "name"),
        ],
    )
    def test_bad_types_are_a_400_naming_the_field_and_change_nothing(self, auth_client, body, field):
        graph = adder(auth_client, "Adder")

        response = auth_client.patch(f"{LIBRARY}/{entry_of(graph).id}", {"is_favorite": True, **body}, format="json")

        assert_error(response, 400, "validation_error", field=field)
        stored = entry_of(graph)
        assert (stored.name, stored.is_favorite, stored.is_archived) == ("", False, False)


class TestDelete:
    def test_delete_is_soft(self, auth_client, user):
        # given a library agent with a run
        graph = adder(auth_client, "Adder")
        kept = adder(auth_client, "Kept")
        run = run_of(graph["id"])
        url = f"{LIBRARY}/{entry_of(graph).id}"

        # when it is deleted from the library
        response = auth_client.delete(url)

        # then it is gone from the library, but its graph and run stay
        assert response.status_code == 204
        assert_error(auth_client.get(url), 404, "not_found")
        assert_error(auth_client.patch(url, {"is_favorite": True}, format="json"), 404, "not_found")
        assert_error(auth_client.delete(url), 404, "not_found")
        assert [a["graph_id"] for a in auth_client.get(f"{LIBRARY}?archived=true").json()["results"]] == []
        assert [a["graph_id"] for a in auth_client.get(LIBRARY).json()["results"]] == [kept["id"]]
        assert entry_of(graph).is_deleted is True
        assert auth_client.get(f"/api/v1/graphs/{graph['id']}").status_code == 200
        assert list(GraphExecution.objects.filter(graph_id=graph["id"]).values_list("id", flat=True)) == [run.id]
        assert counts() == {"graphs": 2, "versions": 2, "library": 2}


class TestIsolation:
    def test_another_users_library_agent_is_a_404_and_stays_as_it_was(self, auth_client, other_user):
        # given someone else's library agent
        theirs = adder(client_for(other_user), "Theirs")
        url = f"{LIBRARY}/{entry_of(theirs).id}"
        before = counts()

        # when the user tries to read, change, delete, fork or update it, then it is not found
        assert_error(auth_client.get(url), 404, "not_found")
        assert_error(auth_client.patch(url, {"name": "Mine", "is_favorite": True}, format="json"), 404, "not_found")
        assert_error(auth_client.delete(url), 404, "not_found")
        assert_error(auth_client.post(f"{url}/fork"), 404, "not_found")
        assert_error(auth_client.post(f"{url}/update"), 404, "not_found")

        # and nothing changed
        stored = entry_of(theirs)
        assert (stored.name, stored.is_favorite, stored.is_deleted, stored.user_id) == ("", False, False, other_user.id)
        assert counts() == before

    def test_an_unknown_id_is_a_404(self, auth_client):
        assert_error(auth_client.get(f"{LIBRARY}/{uuid.uuid4()}"), 404, "not_found")


class TestAddFromStore:
    def test_adding_an_approved_version_copies_its_graph(self, auth_client, user, published):
        # given ada's approved calculator
        before = counts()

        # when a user adds it
        response = add(auth_client, published["id"])

        # then they get a graph of their own, remembering where it came from
        assert response.status_code == 201, response.json()
        agent = response.json()
        assert agent["store_source"] == {
            "store_listing_version_id": published["id"],
            "version": 1,
            "slug": "calculator",
            "creator": "ada",
        }
        assert (agent["name"], agent["graph_version"], agent["update_available"], agent["latest_store_version"]) == (
            "Calculator agent",
            1,
            False,
            1,
        )
        copy = Graph.objects.get(id=agent["graph_id"])
        assert copy.user_id == user.id and str(copy.id) != published["graph_id"]
        assert str(LibraryAgent.objects.get(id=agent["id"]).source_listing_version_id) == published["id"]
        assert counts() == {
            "graphs": before["graphs"] + 1,
            "versions": before["versions"] + 1,
            "library": before["library"] + 1,
        }
        original = auth_client.get(f"/api/v1/graphs/{agent['graph_id']}").json()
        assert len(original["nodes"]) == 3 and len(original["links"]) == 2
        assert [a["id"] for a in auth_client.get(LIBRARY).json()["results"]] == [agent["id"]]

    def test_adding_it_again_returns_the_same_agent(self, auth_client, published):
        first = add(auth_client, published["id"]).json()
        before = counts()

        again = add(auth_client, published["id"])

        assert (again.status_code, again.json()["id"]) == (200, first["id"])
        assert counts() == before

    def test_adding_it_again_after_deleting_restores_it(self, auth_client, published):
        first = add(auth_client, published["id"]).json()
        assert auth_client.delete(f"{LIBRARY}/{first['id']}").status_code == 204
        before = counts()

        again = add(auth_client, published["id"])

        assert (again.status_code, again.json()["id"], again.json()["graph_id"]) == (
            200,
            first["id"],
            first["graph_id"],
        )
        assert LibraryAgent.objects.get(id=first["id"]).is_deleted is False
        assert [a["id"] for a in auth_client.get(LIBRARY).json()["results"]] == [first["id"]]
        assert counts() == before

    def test_adding_your_own_published_agent_returns_your_entry(self, creator_client, published):
        own = LibraryAgent.objects.get(graph_id=published["graph_id"])
        before = counts()

        response = add(creator_client, published["id"])

        assert (response.status_code, response.json()["id"], response.json()["graph_id"]) == (
            200,
            str(own.id),
            published["graph_id"],
        )
        assert counts() == before

    @pytest.mark.parametrize("state", ["pending", "rejected", "taken down", "unknown"])
    def test_a_version_that_is_not_approved_is_a_400_and_adds_nothing(
        self,
        auth_client,
        creator_client,
        admin_client,
        state,
    ):
        if state == "pending":
            version_id = submit(creator_client, import_calculator(creator_client))["id"]
        elif state == "rejected":
            rejected = submit(creator_client, import_calculator(creator_client))
            version_id = review(admin_client, rejected, approve=False, comments="No")["id"]
        elif state == "taken down":
            approved = publish(creator_client, admin_client)
            version_id = review(admin_client, approved, approve=False, comments="Taken down")["id"]
        else:
            version_id = str(uuid.uuid4())
        before = counts()

        response = add(auth_client, version_id)

        assert_error(response, 400, "validation_error", field="store_listing_version_id")
        assert counts() == before
        assert auth_client.get(LIBRARY).json()["count"] == 0

    @pytest.mark.parametrize("value", ["not-a-uuid", "", None, 42])
    def test_a_malformed_id_is_a_400(self, auth_client, value):
        response = add(auth_client, value)

        assert_error(response, 400, "validation_error", field="store_listing_version_id")
        assert counts() == {"graphs": 0, "versions": 0, "library": 0}

    def test_a_missing_id_is_a_400(self, auth_client):
        assert_error(auth_client.post(LIBRARY, {}, format="json"), 400, field="store_listing_version_id")


class TestFork:
    def test_fork_copies_the_graph_into_a_new_one(self, auth_client):
        # given a renamed library agent
        graph = adder(auth_client, "Adder", b=7)
        original = entry_of(graph)
        auth_client.patch(f"{LIBRARY}/{original.id}", {"name": "My adder"}, format="json")
        before = counts()

        # when it is forked
        response = auth_client.post(f"{LIBRARY}/{original.id}/fork")

        # then there is a new graph with the same nodes and links
        assert response.status_code == 201, response.json()
        fork = response.json()
        assert (fork["name"], fork["forked_from_id"], fork["store_source"], fork["graph_version"]) == (
            "My adder (fork)",
            str(original.id),
            None,
            1,
        )
        assert fork["id"] != str(original.id) and fork["graph_id"] != graph["id"]
        copied = auth_client.get(f"/api/v1/graphs/{fork['graph_id']}").json()
        source = auth_client.get(f"/api/v1/graphs/{graph['id']}").json()
        assert copied["name"] == "My adder (fork)"
        assert (copied["nodes"], copied["links"]) == (source["nodes"], source["links"])
        assert counts() == {key: value + 1 for key, value in before.items()}
        assert source["name"] == "Adder"

    def test_a_fork_of_a_store_agent_no_longer_follows_the_store(self, auth_client, published):
        added = add(auth_client, published["id"]).json()

        response = auth_client.post(f"{LIBRARY}/{added['id']}/fork")

        assert response.status_code == 201, response.json()
        fork = response.json()
        assert (fork["name"], fork["forked_from_id"], fork["store_source"], fork["update_available"]) == (
            "Calculator agent (fork)",
            added["id"],
            None,
            False,
        )
        assert LibraryAgent.objects.get(id=fork["id"]).source_listing_version_id is None
        assert (auth_client.post(f"{LIBRARY}/{fork['id']}/update").status_code) == 409


class TestUpdateToLatest:
    def test_an_agent_not_from_the_store_is_a_409(self, auth_client):
        graph = adder(auth_client, "Adder")
        before = counts()

        response = auth_client.post(f"{LIBRARY}/{entry_of(graph).id}/update")

        assert_error(response, 409, "conflict")
        assert counts() == before

    def test_an_agent_on_the_newest_approved_version_is_a_409(
        self,
        auth_client,
        creator_client,
        admin_client,
        published,
    ):
        added = add(auth_client, published["id"]).json()
        # a newer version that is only pending is not an update
        graph_2 = save_new_version(creator_client, published["graph_id"], name="Calculator 2")
        submit(creator_client, graph_2)
        before = counts()

        response = auth_client.post(f"{LIBRARY}/{added['id']}/update")

        assert_error(response, 409, "conflict")
        assert counts() == before
        agent = auth_client.get(f"{LIBRARY}/{added['id']}").json()
        assert (agent["graph_version"], agent["update_available"], agent["latest_store_version"]) == (1, False, 1)

    def test_a_newer_approved_version_becomes_the_graphs_new_active_version(
        self,
        auth_client,
        creator_client,
        admin_client,
        published,
    ):
        # given a library agent on version 1 and a changed version 2 approved since
        added = add(auth_client, published["id"]).json()
        creator_graph = creator_client.get(f"/api/v1/graphs/{published['graph_id']}").json()
        nodes = [
            {**n, "input_default": {**n["input_default"], "b": 100}} if n["block_id"] == CALCULATOR else n
            for n in creator_graph["nodes"]
        ]
        graph_2 = save_new_version(creator_client, published["graph_id"], name="Calculator 2", nodes=nodes)
        version_2 = review(admin_client, submit(creator_client, graph_2))
        offered = auth_client.get(f"{LIBRARY}/{added['id']}").json()
        assert (offered["update_available"], offered["latest_store_version"]) == (True, 2)
        listed = auth_client.get(LIBRARY).json()["results"]
        assert [(a["update_available"], a["latest_store_version"]) for a in listed] == [(True, 2)]

        # when the user updates it
        response = auth_client.post(f"{LIBRARY}/{added['id']}/update")

        # then their graph has version 2, active, with the new content
        assert response.status_code == 200, response.json()
        updated = response.json()
        assert (updated["id"], updated["graph_id"], updated["graph_version"]) == (added["id"], added["graph_id"], 2)
        assert (updated["update_available"], updated["latest_store_version"]) == (False, 2)
        assert updated["store_source"] == {
            "store_listing_version_id": version_2["id"],
            "version": 2,
            "slug": "calculator",
            "creator": "ada",
        }
        copy = auth_client.get(f"/api/v1/graphs/{added['graph_id']}").json()
        assert (copy["version"], copy["is_active"], copy["name"]) == (2, True, "Calculator 2")
        assert copy["nodes"] == nodes
        assert Graph.objects.get(id=added["graph_id"]).versions.count() == 2
        assert_error(auth_client.post(f"{LIBRARY}/{added['id']}/update"), 409, "conflict")
