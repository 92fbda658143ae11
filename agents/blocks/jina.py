"""Jina blocks: AutoGPT's Search The Web and Extract Website Content (backend/blocks/jina/search.py),
with its ids and pins, on Jina's Reader (r.jina.ai/<url>) and Search (s.jina.ai/<query>) APIs at
JINA_READER_BASE_URL and JINA_SEARCH_BASE_URL, with the user's (or the platform's) Jina API key.

`get_request` and `credential` are the seams the test cases replace, as AutoGPT's test_mock does.
"""

from urllib.parse import quote

from autogpt_platform import safe_http
from integrations.provider_http import JINA_READER, JINA_SEARCH, ProviderApi, ProviderError

from .base import BlockCategory, BlockError, BlockOutput, BlockSchema, BlockTestCase, SchemaField
from .credentials import (
    TEST_CREDENTIAL_ID,
    CredentialsField,
    CredentialsMeta,
    IntegrationBlock,
    mock_credential,
    secret_text,
)
from .registry import register

PROVIDER = "jina"
TEST_CREDENTIALS = {"id": TEST_CREDENTIAL_ID, "provider": PROVIDER, "type": "api_key", "title": "Mock Jina API key"}


def JinaCredentialsField() -> CredentialsMeta | None:
    return CredentialsField(PROVIDER, description="Your Jina API key. Without one, the platform's is used.")


class JinaBlock(IntegrationBlock):
    provider = PROVIDER
    categories = {BlockCategory.SEARCH}

    def get_request(self, api: ProviderApi | None, url: str, headers: dict[str, str], secrets: list[str]) -> str:
        """GET url and return the body as text: through `api` (its base URL trusted), or, with
        None, as any user-given URL (SSRF policy). A status other than 2xx fails the node."""
        try:
            if api is None:
                response = safe_http.get(url, headers=headers)
            else:
                response = api.request("GET", url, headers=headers, secrets=secrets)
        except (safe_http.SafeHttpError, ProviderError) as exc:
            raise BlockError(str(exc)) from None
        if not response.ok:
            if api is None:
                raise BlockError(f"{url} answered HTTP {response.status} {response.reason}".strip() + ".")
            raise BlockError(str(api.refused(response, "the request", secrets)))
        return response.text()

    def authorization(self, input_data, context) -> tuple[dict[str, str], list[str]]:
        key = secret_text(self.credential(context, input_data.credentials).api_key)
        return {"Authorization": f"Bearer {key}"}, [key]


@register
class SearchTheWebBlock(JinaBlock):
    """Searches the web for the query with Jina Search and outputs the results, with the content
    of the top pages, as text."""

    id = "87840993-2053-44b7-8da4-187ad4ee518c"
    name = "Search The Web"

    class Input(BlockSchema):
        credentials: CredentialsMeta | None = JinaCredentialsField()
        query: str = SchemaField(description="The search query to search the web for.")

    class Output(BlockOutput):
        results: str = SchemaField(description="The search results including content from the top 5 URLs.")

    test_cases = [
        BlockTestCase(
            {"credentials": TEST_CREDENTIALS, "query": "Artificial Intelligence"},
            [("results", "search content")],
            mocks={"get_request": lambda *args, **kwargs: "search content", "credential": mock_credential(PROVIDER)},
        ),
        BlockTestCase(
            {"query": "cats & dogs?"},
            [("results", "https://s.jina.ai/cats%20%26%20dogs%3F Bearer mock-jina-api-key")],
            description="the query is one path segment, the key a bearer token",
            mocks={
                "get_request": lambda api, url, headers, secrets: f"{url} {headers['Authorization']}",
                "credential": mock_credential(PROVIDER),
            },
        ),
    ]

    def run(self, input_data, context):
        headers, secrets = self.authorization(input_data, context)
        url = JINA_SEARCH.url(quote(input_data.query, safe=""))
        yield "results", self.get_request(JINA_SEARCH, url, headers, secrets)


@register
class ExtractWebsiteContentBlock(JinaBlock):
    """Outputs the content of a web page as text: read by Jina Reader (clean Markdown), or, with
    `raw_content`, fetched as it is. Private and internal addresses are refused."""

    id = "436c3984-57fd-4b85-8e9a-459b356883bd"
    name = "Extract Website Content"

    class Input(BlockSchema):
        credentials: CredentialsMeta | None = JinaCredentialsField()
        url: str = SchemaField(description="The URL to scrape the content from.")
        raw_content: bool = SchemaField(
            False,
            description="Fetch the page as it is instead of reading it with Jina Reader.",
            advanced=True,
            title="Raw Content",
        )

    class Output(BlockOutput):
        content: str = SchemaField(description="The scraped content from the given URL.")
        error: str = SchemaField(description="Error message if the content cannot be retrieved.")

    test_cases = [
        BlockTestCase(
            {"url": "https://en.wikipedia.org/wiki/Artificial_intelligence", "credentials": TEST_CREDENTIALS},
            [("content", "scraped content")],
            mocks={"get_request": lambda *args, **kwargs: "scraped content", "credential": mock_credential(PROVIDER)},
        ),
        BlockTestCase(
            {"url": "https://example.com/a?b=1"},
            [("content", "https://r.jina.ai/https://example.com/a?b=1")],
            description="the page's URL follows the reader's",
            mocks={"get_request": lambda api, url, *rest: url, "credential": mock_credential(PROVIDER)},
        ),
        BlockTestCase(
            {"url": "http://169.254.169.254/latest/meta-data", "raw_content": True},
            [("error", lambda message: "link-local" in message and "refused" in message)],
            description="a raw fetch goes through the SSRF policy",
        ),
        BlockTestCase(
            {"url": "file:///etc/passwd"},
            [("error", lambda message: "only http and https" in message)],
            description="only web pages are read",
            mocks={"credential": mock_credential(PROVIDER)},
        ),
    ]

    def run(self, input_data, context):
        url = input_data.url.strip()
        if input_data.raw_content:
            yield "content", self.get_request(None, url, {}, [])
            return
        try:  # only http(s) pages: anything else would end up in the reader's path
            safe_http.host_entry(url)
        except safe_http.SafeHttpError as exc:
            raise BlockError(str(exc)) from None
        headers, secrets = self.authorization(input_data, context)
        yield "content", self.get_request(JINA_READER, JINA_READER.url(url), headers, secrets)
