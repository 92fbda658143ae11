"""Browsing the store: the public reads (no login, cached), what is visible, full-text search,
filters, sorts, pagination, agent details, ratings and creators."""

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from agents.models import Graph
from executions.models import ExecutionStatus, GraphExecution
from store.models import Profile, StoreListingVersion, StoreReview
from tests.accounts.test_auth_api import assert_error
from tests.clients import client_for
from tests.factories import UserFactory
from tests.graphs import import_calculator
from tests.submissions import publish, review, submit

AGENTS = "/api/v1/store/agents"
CREATORS = "/api/v1/store/creators"


@pytest.fixture(autouse=True)
def empty_cache():
    """Every test starts with no cached store page (the cache is the real Redis)."""
    cache.clear()


@pytest.fixture
def anonymous() -> APIClient:
    return APIClient()


def creator_client_named(username: str) -> APIClient:
    """A client for a new creator whose store username (made from the email) is username."""
    return client_for(UserFactory(email=f"{username}@example.com"))


def save_new_version(client, graph_id: str, **changes) -> dict:
    current = client.get(f"/api/v1/graphs/{graph_id}").json()
    response = client.put(f"/api/v1/graphs/{graph_id}", {**current, **changes}, format="json")
    assert response.status_code == 200, response.json()
    return response.json()


def record_runs(graph_id: str, count: int, *, parent: GraphExecution | None = None) -> None:
    """Finished top-level runs (or child runs of parent) of a graph's active version."""
    graph = Graph.objects.get(id=graph_id)
    version = graph.versions.get(version=graph.active_version)
    for _ in range(count):
        GraphExecution.objects.create(
            user=graph.user, graph=graph, graph_version=version, status=ExecutionStatus.COMPLETED, parent=parent
        )


def rate(client, creator: str, slug: str, score, comments: str = ""):
    return client.post(f"{AGENTS}/{creator}/{slug}/reviews", {"score": score, "comments": comments}, format="json")


def rate_ok(creator: str, slug: str, *scores: int) -> None:
    """Each score from a new user."""
    for score in scores:
        response = rate(client_for(UserFactory()), creator, slug, score)
        assert response.status_code == 201, response.json()


def add_to_library(client, store_listing_version_id: str) -> dict:
    response = client.post(
        "/api/v1/library/agents", {"store_listing_version_id": store_listing_version_id}, format="json"
    )
    assert response.status_code == 201, response.json()
    return response.json()


def names(page: dict) -> list[str]:
    return [agent["name"] for agent in page["results"]]


class TestAnonymousAccess:
    @pytest.mark.django_db
    @pytest.mark.parametrize(
        "url, read, expected",
        [
            (AGENTS, lambda body: [a["slug"] for a in body["results"]], ["doubler"]),
            (f"{AGENTS}/ada/doubler", lambda body: (body["creator"], body["slug"]), ("ada", "doubler")),
            (CREATORS, lambda body: [c["username"] for c in body["results"]], ["ada"]),
            (
                f"{CREATORS}/ada",
                lambda body: (body["username"], [a["slug"] for a in body["agents"]]),
                ("ada", ["doubler"]),
            ),
        ],
        ids=["agents", "agent", "creators", "creator"],
    )
    def test_the_four_public_reads_need_no_login(self, anonymous, creator_client, admin_client, url, read, expected):
        # given a published agent
        publish(creator_client, admin_client, name="Doubler", slug="doubler")

        # when someone without credentials reads the store
        response = anonymous.get(url)

        # then it answers
        assert response.status_code == 200, response.json()
        assert read(response.json()) == expected

    @pytest.mark.django_db
    def test_rating_needs_login(self, anonymous, creator_client, admin_client):
        publish(creator_client, admin_client, name="Doubler", slug="doubler")

        response = rate(anonymous, "ada", "doubler", 5)

        assert_error(response, 401)
        assert StoreReview.objects.count() == 0


@pytest.mark.django_db
class TestVisibility:
    def test_pending_and_rejected_submissions_never_appear(self, anonymous, creator_client, admin_client):
        # given one approved agent, a pending one and a rejected one of the same creator, and two
        # creators with nothing approved
        publish(creator_client, admin_client, name="Shown Agent", slug="shown")
        submit(creator_client, import_calculator(creator_client), name="Waiting Agent", slug="waiting")
        bob = creator_client_named("bob")
        submit(bob, import_calculator(bob), name="Bob Pending", slug="bob-pending")
        carl = creator_client_named("carl")
        refused = submit(carl, import_calculator(carl), name="Carl Refused", slug="carl-refused")
        review(admin_client, refused, approve=False, comments="Not ready")

        # when the public looks at lists, searches, details and creators
        listed = anonymous.get(AGENTS).json()
        searched = anonymous.get(f"{AGENTS}?search=agent").json()
        by_bob = anonymous.get(f"{AGENTS}?creator=bob").json()
        creators = anonymous.get(CREATORS).json()

        # then only the approved agent is there
        assert (listed["count"], names(listed)) == (1, ["Shown Agent"])
        assert names(searched) == ["Shown Agent"]
        assert by_bob["count"] == 0
        assert [(c["username"], c["agent_count"]) for c in creators["results"]] == [("ada", 1)]
        assert_error(anonymous.get(f"{AGENTS}/ada/waiting"), 404, "not_found")
        assert_error(anonymous.get(f"{AGENTS}/bob/bob-pending"), 404, "not_found")
        assert_error(anonymous.get(f"{AGENTS}/carl/carl-refused"), 404, "not_found")
        assert_error(anonymous.get(f"{CREATORS}/bob"), 404, "not_found")
        assert_error(anonymous.get(f"{CREATORS}/carl"), 404, "not_found")

    def test_a_creators_page_lists_only_their_approved_agents(self, anonymous, creator_client, admin_client):
        publish(creator_client, admin_client, name="Shown Agent", slug="shown")
        submit(creator_client, import_calculator(creator_client), name="Waiting Agent", slug="waiting")
        refused = submit(creator_client, import_calculator(creator_client), name="Refused Agent", slug="refused")
        review(admin_client, refused, approve=False, comments="Not ready")

        ada = anonymous.get(f"{CREATORS}/ada")

        assert ada.status_code == 200, ada.json()
        assert (ada.json()["agent_count"], [a["slug"] for a in ada.json()["agents"]]) == (1, ["shown"])

    def test_a_pending_new_version_does_not_replace_the_approved_one(self, anonymous, creator_client, admin_client):
        # given an approved version 1 and a pending version 2
        v1 = publish(creator_client, admin_client, name="Doubler", slug="doubler")
        graph_2 = save_new_version(creator_client, v1["graph_id"], name="Doubler graph 2")
        submit(creator_client, graph_2, name="Doubler Deluxe", slug="doubler")

        # when the public reads the agent
        listed = anonymous.get(AGENTS).json()
        detail = anonymous.get(f"{AGENTS}/ada/doubler").json()

        # then version 1 is what it sees
        assert [(a["name"], a["version"]) for a in listed["results"]] == [("Doubler", 1)]
        assert (detail["name"], detail["store_listing_version_id"]) == ("Doubler", v1["id"])
        assert [v["version"] for v in detail["versions"]] == [1]

    def test_a_taken_down_version_falls_back_to_the_older_approved_one(self, anonymous, creator_client, admin_client):
        # given approved versions 1 and 2
        v1 = publish(creator_client, admin_client, name="Doubler", slug="doubler")
        graph_2 = save_new_version(creator_client, v1["graph_id"], name="Doubler graph 2")
        v2 = review(admin_client, submit(creator_client, graph_2, name="Doubler Deluxe", slug="doubler"))

        # when version 2 is taken down
        review(admin_client, v2, approve=False, comments="Breaks on empty input")

        # then the store shows version 1 again
        listed = anonymous.get(AGENTS).json()
        detail = anonymous.get(f"{AGENTS}/ada/doubler").json()
        assert [(a["name"], a["version"], a["store_listing_version_id"]) for a in listed["results"]] == [
            ("Doubler", 1, v1["id"])
        ]
        assert (detail["name"], detail["version"]) == ("Doubler", 1)
        assert [v["store_listing_version_id"] for v in detail["versions"]] == [v1["id"]]

    def test_a_taken_down_agent_with_no_older_version_disappears(self, anonymous, creator_client, admin_client):
        # given an approved agent
        approved = publish(creator_client, admin_client, name="Doubler", slug="doubler")

        # when its only version is taken down
        review(admin_client, approved, approve=False, comments="Violates the rules")

        # then it is gone from lists, details and creators
        assert anonymous.get(AGENTS).json()["count"] == 0
        assert anonymous.get(f"{AGENTS}?search=doubler").json()["count"] == 0
        assert_error(anonymous.get(f"{AGENTS}/ada/doubler"), 404, "not_found")
        assert anonymous.get(CREATORS).json()["count"] == 0
        assert_error(anonymous.get(f"{CREATORS}/ada"), 404, "not_found")


WEATHER_AGENTS = [
    # name, sub-heading, description, categories
    ("Weather Reporter", "Daily summaries", "Tells you what is coming.", ["news"]),
    ("Sky Watch", "Weather at a glance", "Looks up.", ["outdoors"]),
    ("Cloud Tools", "Handy helpers", "Helps with clouds.", ["weather", "tools"]),
    ("Umbrella", "Stay dry", "Checks the weather so you don't have to, like a reporter.", ["outdoors"]),
    ("Calculator", "Adds numbers", "Doubles and adds numbers.", ["math"]),
]


@pytest.mark.django_db
class TestSearch:
    @pytest.fixture
    def weather_agents(self, creator_client, admin_client):
        for name, sub_heading, description, categories in WEATHER_AGENTS:
            slug = name.lower().replace(" ", "-")
            publish(
                creator_client,
                admin_client,
                name=name,
                slug=slug,
                sub_heading=sub_heading,
                description=description,
                categories=categories,
            )

    def test_name_ranks_above_sub_heading_and_categories_which_rank_above_description(self, anonymous, weather_agents):
        page = anonymous.get(f"{AGENTS}?search=weather").json()

        # Sky Watch (sub-heading) and Cloud Tools (category) tie on rank and runs: by name.
        assert (page["count"], names(page)) == (4, ["Weather Reporter", "Cloud Tools", "Sky Watch", "Umbrella"])

    @pytest.mark.parametrize(
        "search, expected",
        [
            ("Weather reporter", ["Weather Reporter", "Umbrella"]),
            ('"weather reporter"', ["Weather Reporter"]),
            ("umbrella or glance", ["Umbrella", "Sky Watch"]),
            ("reports", ["Weather Reporter", "Umbrella"]),
            ("tools", ["Cloud Tools"]),
            ("thunderstorm", []),
            ("the", []),
            ("\"(&|!:* '", []),
        ],
        ids=["all-words", "quoted-phrase", "or", "stemmed", "category", "none", "stop-word", "junk"],
    )
    def test_websearch_syntax(self, anonymous, weather_agents, search, expected):
        response = anonymous.get(AGENTS, {"search": search})

        assert response.status_code == 200, response.json()
        assert names(response.json()) == expected

    def test_minus_excludes_a_word(self, anonymous, weather_agents):
        page = anonymous.get(AGENTS, {"search": "weather -umbrella", "sort": "name"}).json()

        assert names(page) == ["Cloud Tools", "Sky Watch", "Weather Reporter"]

    def test_an_exclusion_keeps_the_ranking(self, anonymous, weather_agents):
        page = anonymous.get(AGENTS, {"search": "weather -umbrella"}).json()

        assert names(page) == ["Weather Reporter", "Cloud Tools", "Sky Watch"]

    def test_an_explicit_sort_overrides_relevance(self, anonymous, weather_agents):
        page = anonymous.get(f"{AGENTS}?search=weather&sort=name").json()

        assert names(page) == ["Cloud Tools", "Sky Watch", "Umbrella", "Weather Reporter"]


@pytest.mark.django_db
class TestFilters:
    @pytest.fixture
    def categorised(self, creator_client, admin_client):
        publish(creator_client, admin_client, name="Adder", slug="adder", categories=["math"])
        publish(creator_client, admin_client, name="Mathlete", slug="mathlete", categories=["mathematics", "tools"])
        publish(creator_client, admin_client, name="Helper", slug="helper", categories=["Tools", " Math "])

    @pytest.mark.parametrize(
        "category, expected",
        [
            ("math", ["Adder", "Helper"]),
            ("MATH", ["Adder", "Helper"]),
            (" Tools ", ["Helper", "Mathlete"]),
            ("mathematics", ["Mathlete"]),
            ("ath", []),
            ("math, tools", []),
        ],
    )
    def test_category_matches_one_whole_element_ignoring_case(self, anonymous, categorised, category, expected):
        page = anonymous.get(AGENTS, {"category": category, "sort": "name"}).json()

        assert names(page) == expected

    def test_category_with_non_ascii_letters_matches(self, anonymous, creator_client, admin_client):
        publish(creator_client, admin_client, name="Espresso", slug="espresso", categories=["café"])

        page = anonymous.get(AGENTS, {"category": "café"}).json()

        assert names(page) == ["Espresso"]

    def test_creator_filter_ignores_case_and_an_unknown_creator_finds_nothing(
        self, anonymous, creator_client, admin_client
    ):
        publish(creator_client, admin_client, name="Ada Agent", slug="ada-agent")
        bob = creator_client_named("bob")
        publish(bob, admin_client, name="Bob Agent", slug="bob-agent")

        by_ada = anonymous.get(f"{AGENTS}?creator=ADA").json()
        by_nobody = anonymous.get(f"{AGENTS}?creator=nobody").json()

        assert [(a["creator"], a["name"]) for a in by_ada["results"]] == [("ada", "Ada Agent")]
        assert (by_nobody["count"], by_nobody["results"]) == (0, [])

    @pytest.mark.parametrize("param", ["search", "creator"])
    def test_a_nul_character_in_a_query_parameter_is_a_400_naming_it(self, anonymous, param):
        assert_error(anonymous.get(AGENTS, {param: "a\x00b"}), 400, "validation_error", field=param)


@pytest.mark.django_db
class TestSortAndPagination:
    @pytest.fixture
    def ranked_agents(self, creator_client, admin_client):
        """Five agents approved in the order Delta, Alpha, Echo, Charlie, Bravo, with
        ratings Charlie 5 (1), Alpha 4 (2), Delta 4 (1), Bravo and Echo none, and
        runs Echo 3, Alpha 2, Delta 2 (one by a library copy), Charlie 1, Bravo 0."""
        approved = {
            name: publish(creator_client, admin_client, name=name, slug=name.lower())
            for name in ["Delta", "Alpha", "Echo", "Charlie", "Bravo"]
        }
        rate_ok("ada", "charlie", 5)
        rate_ok("ada", "alpha", 4, 4)
        rate_ok("ada", "delta", 4)
        record_runs(approved["Echo"]["graph_id"], 3)
        record_runs(approved["Alpha"]["graph_id"], 2)
        record_runs(approved["Delta"]["graph_id"], 1)
        copy = add_to_library(client_for(UserFactory()), approved["Delta"]["id"])
        record_runs(copy["graph_id"], 1)
        record_runs(approved["Charlie"]["graph_id"], 1)
        parent = GraphExecution.objects.get(graph_id=approved["Charlie"]["graph_id"])
        record_runs(approved["Charlie"]["graph_id"], 2, parent=parent)  # sub-agent runs don't count
        return approved

    @pytest.mark.parametrize(
        "sort, expected",
        [
            ("rating", ["Charlie", "Alpha", "Delta", "Bravo", "Echo"]),
            ("runs", ["Echo", "Alpha", "Delta", "Charlie", "Bravo"]),
            ("name", ["Alpha", "Bravo", "Charlie", "Delta", "Echo"]),
            ("recent", ["Bravo", "Charlie", "Echo", "Alpha", "Delta"]),
            ("", ["Bravo", "Charlie", "Echo", "Alpha", "Delta"]),
        ],
    )
    def test_each_sort_gives_its_exact_order(self, anonymous, ranked_agents, sort, expected):
        page = anonymous.get(AGENTS, {"sort": sort}).json()

        assert names(page) == expected

    def test_lists_carry_rating_and_runs(self, anonymous, ranked_agents):
        page = anonymous.get(f"{AGENTS}?sort=name").json()

        assert [(a["name"], a["rating"], a["runs"]) for a in page["results"]] == [
            ("Alpha", {"average": 4.0, "count": 2}, 2),
            ("Bravo", {"average": 0.0, "count": 0}, 0),
            ("Charlie", {"average": 5.0, "count": 1}, 1),
            ("Delta", {"average": 4.0, "count": 1}, 2),
            ("Echo", {"average": 0.0, "count": 0}, 3),
        ]

    @pytest.mark.parametrize("url", [AGENTS, CREATORS])
    def test_an_unknown_sort_is_a_400_naming_sort(self, anonymous, url):
        response = anonymous.get(url, {"sort": "popularity"})

        assert_error(response, 400, "validation_error", field="sort")

    def test_pages_by_page_size_with_count_and_next(self, anonymous, creator_client, admin_client):
        for name in ["Alpha", "Bravo", "Charlie"]:
            publish(creator_client, admin_client, name=name, slug=name.lower())

        first = anonymous.get(f"{AGENTS}?sort=name&page_size=2").json()
        second = anonymous.get(first["next"]).json()

        assert (first["count"], names(first), first["previous"]) == (3, ["Alpha", "Bravo"], None)
        assert first["next"] == "http://testserver/api/v1/store/agents?page=2&page_size=2&sort=name"
        assert (second["count"], names(second), second["next"]) == (3, ["Charlie"], None)


@pytest.mark.django_db
class TestDetails:
    def test_shows_approved_versions_newest_first_rating_and_runs(self, anonymous, creator_client, admin_client):
        # given versions 1 (approved), 2 (rejected), 3 (approved) and 4 (pending)
        v1 = publish(
            creator_client, admin_client, name="Doubler", slug="doubler", categories=["math"], sub_heading="Twice"
        )
        graph_id = v1["graph_id"]
        graph_2 = save_new_version(creator_client, graph_id, name="Doubler graph 2")
        review(
            admin_client,
            submit(creator_client, graph_2, name="Doubler 2", slug="doubler"),
            approve=False,
            comments="No",
        )
        graph_3 = save_new_version(creator_client, graph_id, name="Doubler graph 3")
        v3 = review(
            admin_client,
            submit(creator_client, graph_3, name="Doubler 3", slug="doubler", sub_heading="Thrice", categories=["x"]),
        )
        graph_4 = save_new_version(creator_client, graph_id, name="Doubler graph 4")
        submit(creator_client, graph_4, name="Doubler 4", slug="doubler")
        # rated 5, 4 and 4; run twice by the creator and once by a library copy
        rate_ok("ada", "doubler", 5, 4, 4)
        record_runs(graph_id, 2)
        copy = add_to_library(client_for(UserFactory()), v3["id"])
        record_runs(copy["graph_id"], 1)
        record_runs(import_calculator(creator_client)["id"], 1)  # an unlisted graph

        # when the public reads the agent
        detail = anonymous.get(f"{AGENTS}/ADA/doubler").json()

        # then it shows version 3 and only the approved versions
        assert (detail["store_listing_version_id"], detail["version"], detail["name"]) == (v3["id"], 3, "Doubler 3")
        assert (detail["creator"], detail["slug"], detail["sub_heading"], detail["categories"]) == (
            "ada",
            "doubler",
            "Thrice",
            ["x"],
        )
        assert [(v["version"], v["store_listing_version_id"]) for v in detail["versions"]] == [
            (3, v3["id"]),
            (1, v1["id"]),
        ]
        assert (detail["rating"], detail["runs"]) == ({"average": 4.33, "count": 3}, 3)
        assert sorted(r["score"] for r in detail["reviews"]) == [4, 4, 5]
        assert detail["creator_profile"]["username"] == "ada"
        assert detail["input_schema"]["properties"].keys() == {"Input"}

    @pytest.mark.parametrize("path", ["ada/nothing-here", "nobody/doubler"])
    def test_an_unknown_agent_is_a_404(self, anonymous, creator_client, admin_client, path):
        publish(creator_client, admin_client, name="Doubler", slug="doubler")

        assert_error(anonymous.get(f"{AGENTS}/{path}"), 404, "not_found")


@pytest.mark.django_db
class TestRatings:
    @pytest.mark.parametrize("score", [0, 6, "x", 4.5, None])
    def test_a_score_outside_1_to_5_is_a_400_naming_score(self, auth_client, creator_client, admin_client, score):
        publish(creator_client, admin_client, name="Doubler", slug="doubler")

        response = rate(auth_client, "ada", "doubler", score)

        assert_error(response, 400, "validation_error", field="score")
        assert StoreReview.objects.count() == 0

    def test_rating_again_changes_the_one_rating(self, anonymous, auth_client, user, creator_client, admin_client):
        # given a rating of 2
        approved = publish(creator_client, admin_client, name="Doubler", slug="doubler")
        first = rate(auth_client, "ada", "doubler", 2, "meh")
        assert first.status_code == 201, first.json()

        # when the same user rates the same version again
        second = rate(auth_client, "ada", "doubler", 5, "grew on me")

        # then the one rating is changed
        assert second.status_code == 200, second.json()
        assert second.json()["id"] == first.json()["id"]
        assert (second.json()["score"], second.json()["comments"], second.json()["version"]) == (5, "grew on me", 1)
        assert [(str(r.listing_version_id), r.user_id, r.score, r.comments) for r in StoreReview.objects.all()] == [
            (approved["id"], user.id, 5, "grew on me")
        ]
        assert anonymous.get(f"{AGENTS}/ada/doubler").json()["rating"] == {"average": 5.0, "count": 1}

    def test_rating_your_own_agent_is_refused(self, creator_client, admin_client):
        publish(creator_client, admin_client, name="Doubler", slug="doubler")

        response = rate(creator_client, "ada", "doubler", 5)

        assert_error(response, 400, "own_agent")
        assert StoreReview.objects.count() == 0

    def test_rating_an_unpublished_agent_is_a_404(self, auth_client, creator_client, admin_client):
        submit(creator_client, import_calculator(creator_client), name="Waiting", slug="waiting")
        taken_down = publish(creator_client, admin_client, name="Gone", slug="gone")
        review(admin_client, taken_down, approve=False, comments="Taken down")

        assert_error(rate(auth_client, "ada", "waiting", 5), 404, "not_found")
        assert_error(rate(auth_client, "ada", "gone", 5), 404, "not_found")
        assert_error(rate(auth_client, "ada", "never-was", 5), 404, "not_found")
        assert StoreReview.objects.count() == 0


@pytest.mark.django_db
class TestCreators:
    @pytest.fixture
    def creators(self, creator_client, admin_client):
        """ada: two published agents rated 5, 2 and 5, and a pending one; bob: one published,
        unrated; carl: only a pending agent; dave: a profile and nothing submitted."""
        publish(creator_client, admin_client, name="Ada One", slug="ada-one")
        publish(creator_client, admin_client, name="Ada Two", slug="ada-two")
        submit(creator_client, import_calculator(creator_client), name="Ada Three", slug="ada-three")
        rate_ok("ada", "ada-one", 5, 2)
        rate_ok("ada", "ada-two", 5)
        bob = creator_client_named("bob")
        publish(bob, admin_client, name="Bob One", slug="bob-one")
        carl = creator_client_named("carl")
        submit(carl, import_calculator(carl), name="Carl One", slug="carl-one")
        assert creator_client_named("dave").get("/api/v1/store/profile").status_code == 200
        assert Profile.objects.count() == 4

    def test_lists_only_creators_with_a_published_agent(self, anonymous, creators):
        page = anonymous.get(CREATORS).json()

        assert page["count"] == 2
        assert [(c["username"], c["agent_count"], c["rating_average"]) for c in page["results"]] == [
            ("ada", 2, 4.0),
            ("bob", 1, 0.0),
        ]

    def test_creator_detail_has_figures_and_published_agents(self, anonymous, creators):
        response = anonymous.get(f"{CREATORS}/ADA")

        assert response.status_code == 200, response.json()
        ada = response.json()
        assert (ada["username"], ada["agent_count"], ada["rating_average"], ada["runs"]) == ("ada", 2, 4.0, 0)
        assert [a["slug"] for a in ada["agents"]] == ["ada-two", "ada-one"]

    def test_a_creators_runs_count_only_published_agents(self, anonymous, creator_client, admin_client):
        shown = publish(creator_client, admin_client, name="Shown", slug="shown")
        waiting = submit(creator_client, import_calculator(creator_client), name="Waiting", slug="waiting")
        gone = publish(creator_client, admin_client, name="Gone", slug="gone")
        review(admin_client, gone, approve=False, comments="Taken down")
        record_runs(shown["graph_id"], 1)
        record_runs(waiting["graph_id"], 2)
        record_runs(gone["graph_id"], 4)

        page = anonymous.get(CREATORS).json()

        assert [(c["username"], c["agent_count"], c["runs"]) for c in page["results"]] == [("ada", 1, 1)]

    @pytest.mark.parametrize("username", ["nobody", "carl", "dave"])
    def test_a_creator_without_a_published_agent_is_a_404(self, anonymous, creators, username):
        assert_error(anonymous.get(f"{CREATORS}/{username}"), 404, "not_found")


@pytest.mark.django_db(transaction=True)
class TestCache:
    @pytest.mark.parametrize("url", [AGENTS, f"{AGENTS}/ada/doubler", CREATORS, f"{CREATORS}/ada"])
    def test_a_public_read_is_served_from_the_cache(self, anonymous, creator_client, admin_client, url):
        # given a read of a published agent
        approved = publish(creator_client, admin_client, name="Doubler", slug="doubler")
        before = anonymous.get(url)
        assert before.status_code == 200

        # when the rows change behind the cache's back
        StoreListingVersion.objects.filter(id=approved["id"]).update(name="Renamed", description="Changed")
        Profile.objects.filter(username="ada").update(name="Someone Else", description="Changed")

        # then the same read gives the old answer
        after = anonymous.get(url)
        assert after.json() == before.json()
        assert "Renamed" not in after.content.decode() and "Someone Else" not in after.content.decode()

    def test_a_review_decision_drops_the_cache(self, anonymous, creator_client, admin_client):
        # given a cached list with one agent, a pending one, and a change the cache has not seen
        first = publish(creator_client, admin_client, name="Alpha", slug="alpha")
        pending = submit(creator_client, import_calculator(creator_client), name="Bravo", slug="bravo")
        assert names(anonymous.get(f"{AGENTS}?sort=name").json()) == ["Alpha"]
        StoreListingVersion.objects.filter(id=first["id"]).update(name="Alpha Renamed")

        # when an admin approves the pending one
        review(admin_client, pending)

        # then the next read shows everything as it now is
        assert names(anonymous.get(f"{AGENTS}?sort=name").json()) == ["Alpha Renamed", "Bravo"]

    @pytest.mark.parametrize("url", [f"{AGENTS}/ada/doubler", f"{CREATORS}/ada"])
    def test_a_take_down_drops_the_cached_details(self, anonymous, creator_client, admin_client, url):
        # given a cached page of a published agent
        approved = publish(creator_client, admin_client, name="Doubler", slug="doubler")
        cached = anonymous.get(url)
        assert cached.status_code == 200, cached.json()

        # when an admin takes it down
        review(admin_client, approved, approve=False, comments="Taken down")

        # then the page is gone
        assert_error(anonymous.get(url), 404, "not_found")

    def test_a_new_rating_drops_the_cache(self, anonymous, auth_client, creator_client, admin_client):
        # given cached details with no rating, and a change the cache has not seen
        approved = publish(creator_client, admin_client, name="Doubler", slug="doubler")
        before = anonymous.get(f"{AGENTS}/ada/doubler").json()
        assert (before["name"], before["rating"]) == ("Doubler", {"average": 0.0, "count": 0})
        StoreListingVersion.objects.filter(id=approved["id"]).update(name="Doubler Renamed")

        # when a user rates it
        assert rate(auth_client, "ada", "doubler", 3).status_code == 201

        # then the next read shows the rating and the change
        after = anonymous.get(f"{AGENTS}/ada/doubler").json()
        assert (after["name"], after["rating"]) == ("Doubler Renamed", {"average": 3.0, "count": 1})

        # and changing the rating drops it again
        assert rate(auth_client, "ada", "doubler", 5).status_code == 200
        assert anonymous.get(f"{AGENTS}/ada/doubler").json()["rating"] == {"average": 5.0, "count": 1}
