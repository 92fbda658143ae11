"""Google Maps Search: AutoGPT's block (backend/blocks/google_maps.py), with its id, pins and
output, on Places API (New) Text Search (`POST /v1/places:searchText`, pages of at most 20) at
GOOGLE_MAPS_BASE_URL, with the user's (or the platform's) Maps API key.
"""

from typing import Any

from pydantic import BaseModel, Field

from integrations.provider_http import GOOGLE_MAPS, ProviderError

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

PROVIDER = "google_maps"
SEARCH_PATH = "/v1/places:searchText"
PAGE_SIZE = 20
# The fields asked for (Text Search bills by the costliest one).
SEARCH_FIELDS = ",".join(
    [
        "places.id",
        "places.displayName",
        "places.formattedAddress",
        "places.location",
        "places.googleMapsUri",
        "places.nationalPhoneNumber",
        "places.websiteUri",
        "places.rating",
        "places.userRatingCount",
        "nextPageToken",
    ]
)
# Google's reasons for refusing a key, with what the user can do about them.
ERROR_HINTS = {
    "API_KEY_INVALID": "Google rejected the Maps API key. Check the key saved in your Google Maps credentials.",
    "SERVICE_DISABLED": (
        "Places API (New) isn't enabled on the Google Cloud project that owns this Maps API key. Enable it "
        "in the Google Cloud console under APIs & Services, then try again."
    ),
    "API_KEY_SERVICE_BLOCKED": (
        "This Maps API key isn't allowed to call Places API (New). Add it to the key's API restrictions in "
        "the Google Cloud console."
    ),
}
TEST_PLACE = {
    "name": "Test Restaurant",
    "address": "123 Test St, New York, NY 10001",
    "phone": "(555) 123-4567",
    "rating": 4.5,
    "reviews": 100,
    "website": "https://testrestaurant.com",
    "place_id": "ChIJTestRestaurant0123456789",
    "latitude": 40.7505,
    "longitude": -73.9934,
    "google_maps_url": "https://maps.google.com/?cid=1234567890",
}


class Place(BaseModel):
    name: str
    address: str
    phone: str
    rating: float
    reviews: int
    website: str
    place_id: str = Field("", description="Google Maps place ID")
    latitude: float | None = Field(None, description="Latitude in degrees")
    longitude: float | None = Field(None, description="Longitude in degrees")
    google_maps_url: str = Field("", description="Link to the place on Google Maps")


def to_place(place: dict[str, Any]) -> dict[str, Any]:
    """A Places API (New) place as the block's `place` output."""
    location = place.get("location") or {}
    return Place(
        name=(place.get("displayName") or {}).get("text", ""),
        address=place.get("formattedAddress", ""),
        phone=place.get("nationalPhoneNumber", ""),
        rating=place.get("rating", 0),
        reviews=place.get("userRatingCount", 0),
        website=place.get("websiteUri", ""),
        place_id=place.get("id", ""),
        latitude=location.get("latitude", 0.0) if location else None,
        longitude=location.get("longitude", 0.0) if location else None,
        google_maps_url=place.get("googleMapsUri", ""),
    ).model_dump()


def search_error(response, secrets: list[str]) -> str:
    """A message the user can act on, for a failed Text Search."""
    try:
        body = response.json()
    except ValueError:
        body = {}
    error = body.get("error") if isinstance(body, dict) else None
    details = error.get("details") if isinstance(error, dict) else None
    for detail in details if isinstance(details, list) else []:
        if isinstance(detail, dict) and (hint := ERROR_HINTS.get(detail.get("reason", ""))):
            return hint
    if response.status == 429:
        return (
            "This Maps API key has run out of Places API (New) quota. Try again later, or raise the quota "
            "in the Google Cloud console."
        )
    if response.status >= 500:
        return f"Places API (New) had a temporary problem (HTTP {response.status}). Try again."
    return str(GOOGLE_MAPS.refused(response, "the search", secrets))


@register
class GoogleMapsSearchBlock(IntegrationBlock):
    """Searches Google Maps for businesses and other places that match a text query, and outputs
    each place (name, address, phone, rating, review count, website, place ID, coordinates and
    Google Maps link) on `place`."""

    id = "f47ac10b-58cc-4372-a567-0e02b2c3d479"
    name = "Google Maps Search"
    provider = PROVIDER
    categories = {BlockCategory.SEARCH}

    class Input(BlockSchema):
        credentials: CredentialsMeta | None = CredentialsField(
            PROVIDER, description="Your Google Maps API key. Without one, the platform's is used."
        )
        query: str = SchemaField(description="Search query for local businesses, e.g. 'restaurants in New York'.")
        radius: int = SchemaField(
            5000,
            description="Not used: Google needs a centre point to apply a radius, so name the area in the query "
            "instead. Kept so existing agents still load.",
            ge=1,
            le=50000,
            advanced=True,
        )
        max_results: int = SchemaField(20, description="Maximum number of results to return (max 60).", ge=1, le=60)

    class Output(BlockOutput):
        place: Place = SchemaField(description="Place found.")

    test_cases = [
        BlockTestCase(
            {
                "credentials": {"id": TEST_CREDENTIAL_ID, "provider": PROVIDER, "type": "api_key"},
                "query": "restaurants in new york",
                "radius": 5000,
                "max_results": 5,
            },
            [("place", TEST_PLACE)],
            mocks={"search_places": lambda *args, **kwargs: [TEST_PLACE], "credential": mock_credential(PROVIDER)},
        ),
        BlockTestCase(
            {"query": "cafes in Paris", "max_results": 45},
            [("place", {**TEST_PLACE, "name": f"Cafe {n}"}) for n in range(45)],
            description="pages of 20 are asked for until max_results, the last one smaller",
            mocks={
                "search_page": lambda api_key, query, page_size, page_token: {
                    "places": [
                        {
                            "id": TEST_PLACE["place_id"],
                            "displayName": {"text": f"Cafe {int(page_token or 0) + n}"},
                            "formattedAddress": TEST_PLACE["address"],
                            "nationalPhoneNumber": TEST_PLACE["phone"],
                            "rating": 4.5,
                            "userRatingCount": 100,
                            "websiteUri": TEST_PLACE["website"],
                            "location": {"latitude": 40.7505, "longitude": -73.9934},
                            "googleMapsUri": TEST_PLACE["google_maps_url"],
                        }
                        for n in range(page_size)
                    ],
                    "nextPageToken": str(int(page_token or 0) + page_size),
                },
                "credential": mock_credential(PROVIDER),
            },
        ),
    ]

    def run(self, input_data, context):
        api_key = secret_text(self.credential(context, input_data.credentials).api_key)
        for place in self.search_places(api_key, input_data.query, input_data.radius, input_data.max_results):
            yield "place", place

    def search_places(self, api_key: str, query: str, radius: int, max_results: int) -> list[dict[str, Any]]:
        """Places matching the query, a page of up to 20 at a time. `radius` is accepted for
        existing agents, but it needs a centre point, which the block does not have: not sent."""
        places: list[dict[str, Any]] = []
        page_token = ""
        while len(places) < max_results:
            page = self.search_page(api_key, query, min(PAGE_SIZE, max_results - len(places)), page_token)
            places.extend(to_place(place) for place in page.get("places") or [])
            page_token = page.get("nextPageToken", "")
            if not page_token:
                break
        return places[:max_results]

    def search_page(self, api_key: str, query: str, page_size: int, page_token: str) -> dict[str, Any]:
        body: dict[str, Any] = {"textQuery": query, "pageSize": page_size}
        if page_token:
            body["pageToken"] = page_token
        try:
            response = GOOGLE_MAPS.request(
                "POST",
                GOOGLE_MAPS.url(SEARCH_PATH),
                headers={"X-Goog-Api-Key": api_key, "X-Goog-FieldMask": SEARCH_FIELDS},
                json=body,
                secrets=[api_key],
                follow_redirects=False,
            )
        except ProviderError as exc:
            raise BlockError(str(exc)) from None
        if not response.ok:
            raise BlockError(search_error(response, [api_key]))
        try:
            page = response.json()
        except ValueError:
            raise BlockError("Places API (New) sent an answer that is not JSON.") from None
        if not isinstance(page, dict):
            raise BlockError("Places API (New) sent an answer that is not a JSON object.")
        return page
