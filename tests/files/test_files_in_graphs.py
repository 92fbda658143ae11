"""Files and memory in real runs on a real worker: an uploaded CSV as an execution input, read,
and a file derived from it stored as a block output that its owner downloads; Persist/Retrieve
Information remembering across runs of one agent."""

import shutil
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from files.models import FileOrigin, UserFile
from files.references import referenced_file_id
from tests.clients import client_for
from tests.factories import UserFactory
from tests.graphs import AGENT_OUTPUT, CALCULATOR, FILL_TEMPLATE, create_graph, link, node, node_runs, run_graph

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("live_worker"), pytest.mark.services]

AGENT_FILE_INPUT = "95ead23f-8283-4654-aef3-10c053b74a31"
READ_SPREADSHEET = "acf7625e-d2cb-4941-bfeb-2819fc6fc015"
FILE_STORE = "cbb50872-625b-42f0-8203-a2ae78242d8a"
PERSIST = "1d055e55-a2b9-4547-8311-907d05b0304d"
RETRIEVE = "d8710fc9-6e29-481e-a7d5-165eb16f8471"

CSV = b"name,age\nAda,36\nBob,40\n"
# The names column of the rows, as a CSV file in a data URI, for File Store to keep.
NAMES_TEMPLATE = "data:text/csv,{{ ('name\\n' ~ (rows | map(attribute='name') | join('\\n'))) | urlencode }}"


@pytest.fixture
def make_user():
    """Users whose stored files are removed afterwards: the runs stored them into the shared
    FILES_ROOT, outside the test's database."""
    users = []

    def make():
        users.append(UserFactory())
        return users[-1]

    yield make
    for user in users:
        shutil.rmtree(Path(settings.FILES_ROOT) / "files" / str(user.id), ignore_errors=True)


@pytest.fixture
def owner(make_user):
    return make_user()


def names_graph(client):
    return create_graph(
        client,
        [
            node("in", AGENT_FILE_INPUT, name="people"),
            node("read", READ_SPREADSHEET),
            node("names", FILL_TEMPLATE, format=NAMES_TEMPLATE),
            node("store", FILE_STORE),
            node("out", AGENT_OUTPUT, name="names_file"),
            node("rows", AGENT_OUTPUT, name="rows"),
        ],
        [
            link("in", "result", "read", "file_input"),
            link("read", "rows", "names", "values_#_rows"),
            link("read", "rows", "rows", "value"),
            link("names", "output", "store", "file_in"),
            link("store", "file_out", "out", "value"),
        ],
        name="names of people",
    )


def test_an_uploaded_csv_is_read_in_a_run_and_a_derived_file_stored_for_its_owner(owner):
    client = client_for(owner)
    uploaded = client.post(
        "/api/v1/files/upload", {"file": SimpleUploadedFile("people.csv", CSV)}, format="multipart"
    ).json()
    graph = names_graph(client)
    assert graph["input_schema"]["properties"]["people"]["format"] == "file"

    detail = run_graph(client, graph, {"people": uploaded["reference"]})

    assert detail["status"] == "COMPLETED", detail
    assert detail["outputs"]["rows"] == [[{"name": "Ada", "age": "36"}, {"name": "Bob", "age": "40"}]]
    [reference] = detail["outputs"]["names_file"]
    derived_id = referenced_file_id(reference)
    derived = UserFile.objects.get(id=derived_id)
    assert (derived.user_id, derived.origin, str(derived.graph_exec_id)) == (owner.id, FileOrigin.BLOCK, detail["id"])
    download = client.get(f"/api/v1/files/{derived_id}")
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b"name\nAda\nBob"
    listed = {item["id"] for item in client.get("/api/v1/files").json()["results"]}
    assert listed == {uploaded["id"], str(derived_id)}
    # Nobody else downloads it.
    assert client_for(UserFactory()).get(f"/api/v1/files/{derived_id}").status_code == 404


def test_a_run_given_another_users_file_fails_without_reading_it(owner, make_user):
    stranger = client_for(make_user())
    theirs = stranger.post(
        "/api/v1/files/upload", {"file": SimpleUploadedFile("secret.csv", b"secret,data\n1,2\n")}, format="multipart"
    ).json()
    client = client_for(owner)
    graph = names_graph(client)

    detail = run_graph(client, graph, {"people": theirs["reference"]})

    assert detail["status"] == "FAILED"
    assert detail["error"]["node_id"] == "in"
    assert detail["error"]["message"] == "No such file."
    assert node_runs(detail, "read") == []
    assert UserFile.objects.filter(user=owner).count() == 0


def test_persisted_information_outlives_the_run_and_stays_with_its_agent(owner):
    client = client_for(owner)
    nodes = [
        node("recall", RETRIEVE, key="runs", default_value=0),
        node("add", CALCULATOR, operation="Add", b=1),
        node("remember", PERSIST, key="runs"),
        node("out", AGENT_OUTPUT, name="runs"),
    ]
    links = [
        link("recall", "value", "add", "a"),
        link("add", "result", "remember", "value"),
        link("remember", "value", "out", "value"),
    ]
    counter = create_graph(client, nodes, links, name="counter")
    other_counter = create_graph(client, nodes, links, name="another counter")

    assert run_graph(client, counter)["outputs"]["runs"] == [1]
    assert run_graph(client, counter)["outputs"]["runs"] == [2]
    assert run_graph(client, other_counter)["outputs"]["runs"] == [1]
    stranger = client_for(UserFactory())
    assert run_graph(stranger, create_graph(stranger, nodes, links))["outputs"]["runs"] == [1]
