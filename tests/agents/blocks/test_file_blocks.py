"""The file blocks on the real storage path (clamd scanning what they store), reading only the
running user's files."""

import base64
import io

import openpyxl
import pytest

from agents.blocks import BlockContext
from agents.blocks.files import AgentFileInputBlock, FileReadBlock, FileStoreBlock, ReadSpreadsheetBlock
from files.models import FileOrigin, UserFile
from files.references import file_reference
from files.services import file_store_content
from tests.files.storage import stored_user_files
from tests.stand_ins.static_site import StaticSite
from tests.test_uploads import EICAR

pytestmark = [pytest.mark.django_db, pytest.mark.services]

CSV = b"name,age,city\nAda,36,London\nBob,40,Paris\n"


def run(block, user, graph_exec_id="7d4e1a6c-0b39-4d2c-9e55-0a6f8d2b1c11", **inputs):
    context = BlockContext(user_id=str(user.id), graph_exec_id=graph_exec_id, node_id="n")
    outputs = []
    try:
        outputs.extend(block().execute(inputs, context))
    except Exception as exc:  # noqa: BLE001 - as the engine reports a failing node
        outputs.append(("error", str(exc)))
    return outputs


def data_uri(content: bytes, content_type: str = "text/csv") -> str:
    return f"data:{content_type};base64,{base64.b64encode(content).decode()}"


@pytest.fixture
def site():
    local = StaticSite({"/files/people.csv": ("text/csv; charset=utf-8", CSV)})
    with local.allowed():
        yield local
    local.close()


def test_file_store_keeps_a_data_uri_as_a_file_of_the_user(user, files_root):
    [(pin, reference)] = run(FileStoreBlock, user, file_in=data_uri(CSV))

    assert pin == "file_out"
    stored = UserFile.objects.get()
    assert reference == file_reference(stored.id)
    assert (stored.user_id, stored.origin, stored.content_type, stored.size) == (
        user.id,
        FileOrigin.BLOCK,
        "text/csv",
        len(CSV),
    )
    assert str(stored.graph_exec_id) == "7d4e1a6c-0b39-4d2c-9e55-0a6f8d2b1c11"
    (path,) = stored_user_files(files_root)
    assert path.read_bytes() == CSV


def test_file_store_fetches_a_url_through_the_safe_client(user, files_root, site):
    [(pin, reference)] = run(FileStoreBlock, user, file_in=site.url("/files/people.csv"))

    assert pin == "file_out"
    stored = UserFile.objects.get()
    assert (stored.name, stored.content_type) == ("people.csv", "text/csv")
    assert run(FileReadBlock, user, file_input=reference) == [("content", CSV.decode())]


def test_a_url_on_a_private_address_is_refused_without_the_allow_list(user, files_root):
    site = StaticSite({"/x.csv": ("text/csv", CSV)})
    try:
        [(pin, message)] = run(FileStoreBlock, user, file_in=site.url("/x.csv"))
    finally:
        site.close()

    assert pin == "error" and "refused" in message
    assert site.requests == []
    assert not UserFile.objects.exists()


def test_an_infected_file_is_never_stored(user, files_root):
    [(pin, message)] = run(FileStoreBlock, user, file_in=data_uri(EICAR, "text/plain"))

    assert pin == "error" and "Eicar-Test-Signature" in message
    assert stored_user_files(files_root) == []


def test_a_users_own_file_stays_the_same_file(user, files_root):
    own = file_store_content(user_id=user.id, content=CSV, name="people.csv")

    assert run(AgentFileInputBlock, user, name="data", value=file_reference(own.id)) == [
        ("result", file_reference(own.id))
    ]
    assert run(FileStoreBlock, user, file_in=f"/api/v1/files/{own.id}") == [("file_out", file_reference(own.id))]
    assert run(AgentFileInputBlock, user, name="data", value=file_reference(own.id), base_64=True) == [
        ("result", data_uri(CSV))
    ]
    assert UserFile.objects.count() == 1


def test_another_users_file_cannot_be_read_or_copied(user, other_user, files_root):
    theirs = file_store_content(user_id=other_user.id, content=b"secret", name="secret.txt")
    reference = file_reference(theirs.id)

    for block, inputs in [
        (FileReadBlock, {"file_input": reference}),
        (FileStoreBlock, {"file_in": reference}),
        (AgentFileInputBlock, {"name": "f", "value": reference}),
        (ReadSpreadsheetBlock, {"file_input": reference}),
    ]:
        assert run(block, user, **inputs) == [("error", "No such file.")], block.name
    assert UserFile.objects.count() == 1


@pytest.mark.parametrize("path", ["/etc/passwd", "file:///etc/passwd", "../../etc/passwd", "ftp://example.com/x"])
def test_paths_on_the_server_are_never_read(user, files_root, path):
    [(pin, message)] = run(FileReadBlock, user, file_input=path)

    assert pin == "error" and "Paths on the server are not readable" in message


def test_file_read_refuses_a_file_over_the_read_limit(user, files_root, settings):
    own = file_store_content(user_id=user.id, content=b"x" * 100, name="big.txt")
    settings.FILE_READ_MAX_BYTES = 99

    [(pin, message)] = run(FileReadBlock, user, file_input=file_reference(own.id))

    assert pin == "error" and "at most 99 bytes" in message


def test_file_read_of_json_and_latin_1(user, files_root):
    json_file = file_store_content(user_id=user.id, content=b'{"a": [1, 2]}', name="data.json")
    latin = file_store_content(user_id=user.id, content="café".encode("latin-1"), name="notes.txt")

    assert run(FileReadBlock, user, file_input=file_reference(json_file.id)) == [("content", '{"a": [1, 2]}')]
    assert run(FileReadBlock, user, file_input=file_reference(latin.id)) == [("content", "café")]


def xlsx(rows: list[list]) -> bytes:
    workbook = openpyxl.Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_read_spreadsheet_reads_a_stored_csv_and_an_xlsx(user, files_root):
    csv_file = file_store_content(user_id=user.id, content=CSV, name="people.csv")
    sheet = file_store_content(
        user_id=user.id, content=xlsx([["name", "age"], ["Ada", 36], ["Bob", 40.5], [None, None]]), name="people.xlsx"
    )

    assert run(ReadSpreadsheetBlock, user, file_input=file_reference(csv_file.id)) == [
        ("rows", [{"name": "Ada", "age": "36", "city": "London"}, {"name": "Bob", "age": "40", "city": "Paris"}])
    ]
    assert run(ReadSpreadsheetBlock, user, file_input=file_reference(sheet.id), produce_singular_result=True) == [
        ("row", {"name": "Ada", "age": "36"}),
        ("row", {"name": "Bob", "age": "40.5"}),
    ]


def test_read_spreadsheet_refuses_what_is_not_a_spreadsheet(user, files_root):
    broken = file_store_content(user_id=user.id, content=b"PK\x03\x04not a zip", name="broken.xlsx")

    [(pin, message)] = run(ReadSpreadsheetBlock, user, file_input=file_reference(broken.id))

    assert pin == "error" and message.startswith("Unable to read the spreadsheet")
