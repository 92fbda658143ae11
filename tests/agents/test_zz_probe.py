import json
import pytest
from tests.graphs import CALCULATOR_EXPORT

pytestmark = pytest.mark.django_db

def load():
    return json.loads(CALCULATOR_EXPORT.read_text())

@pytest.mark.parametrize("case", ["input_default_str", "input_default_list", "long_name", "int_name", "long_node_id", "metadata_str", "nodes_empty", "list_body", "str_body", "long_sink_name", "is_static_str", "link_id_long"])
def test_probe(auth_client, case):
    data = load()
    if case == "input_default_str":
        data["nodes"][2]["input_default"] = "x"
    elif case == "input_default_list":
        data["nodes"][2]["input_default"] = [1]
    elif case == "long_name":
        data["name"] = "n" * 300
    elif case == "int_name":
        data["name"] = 123
    elif case == "long_node_id":
        old = data["nodes"][2]["id"]; new = "x" * 150
        data["nodes"][2]["id"] = new
        for l in data["links"]:
            for k in ("source_id", "sink_id"):
                if l[k] == old: l[k] = new
    elif case == "metadata_str":
        data["nodes"][2]["metadata"] = "m"
    elif case == "nodes_empty":
        data["nodes"] = []; data["links"] = []
    elif case == "list_body":
        data = [data]
    elif case == "str_body":
        data = "hello"
    elif case == "long_sink_name":
        data["links"][0]["sink_name"] = "value_#_" + "k" * 300
    elif case == "is_static_str":
        data["links"][0]["is_static"] = "false"
    elif case == "link_id_long":
        data["links"][0]["id"] = "l" * 150
    r = auth_client.post("/api/v1/graphs/import", data, format="json")
    print(case, r.status_code, r.content[:400])
    assert 0
