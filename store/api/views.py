import hashlib

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import ApiKeyScopes, IsAdmin
from autogpt_platform.pagination import PageNumberPagination, paginated
from store import selectors, services
from store.cache import public_cached

from . import serializers as s

# --- Profile -----------------------------------------------------------------------------------


class ProfileView(APIView):
    required_scopes = {"GET": "read_store"}

    @extend_schema(tags=["store"], responses=s.ProfileOutputSerializer)
    def get(self, request):
        """Your store profile (one is made, with a username from your email, the first time)."""
        return Response(
            s.ProfileOutputSerializer(
                services.profile_get_or_create(user=request.user), context={"request": request}
            ).data
        )

    @extend_schema(tags=["store"], request=s.ProfileInputSerializer, responses=s.ProfileOutputSerializer)
    def put(self, request):
        data = s.ProfileInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        profile = services.profile_update(user=request.user, **data.validated_data)
        return Response(s.ProfileOutputSerializer(profile, context={"request": request}).data)


class ProfileAvatarView(APIView):
    parser_classes = [MultiPartParser]

    @extend_schema(tags=["store"], request=s.FileUploadInputSerializer, responses=s.ProfileOutputSerializer)
    def post(self, request):
        """Upload an avatar image (PNG, JPEG, GIF or WebP); it is virus-scanned before it is stored."""
        data = s.FileUploadInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        profile = services.profile_avatar_upload(user=request.user, file=data.validated_data["file"])
        return Response(s.ProfileOutputSerializer(profile, context={"request": request}).data)


# --- Submissions -------------------------------------------------------------------------------


class SubmissionListCreateView(APIView):
    required_scopes = {"GET": "read_store"}
    pagination_class = PageNumberPagination

    @extend_schema(tags=["store"], responses=s.SubmissionOutputSerializer(many=True))
    def get(self, request):
        """Your submissions, newest first, with their status and the reviewer's comments."""
        submissions = selectors.submission_list_for_user(user=request.user)
        return paginated(request, self, submissions, s.SubmissionOutputSerializer)

    @extend_schema(
        tags=["store"], request=s.SubmissionCreateInputSerializer, responses={201: s.SubmissionOutputSerializer}
    )
    def post(self, request):
        """Submit a version of one of your graphs to the store; it is PENDING until an admin decides."""
        data = s.SubmissionCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        submission = services.submission_create(user=request.user, **data.validated_data)
        return Response(s.SubmissionOutputSerializer(submission).data, status=status.HTTP_201_CREATED)


class SubmissionDetailView(APIView):
    required_scopes = {"GET": "read_store"}

    @extend_schema(tags=["store"], responses=s.SubmissionOutputSerializer)
    def get(self, request, version_id):
        submission = selectors.submission_get_for_user(user=request.user, version_id=version_id)
        return Response(s.SubmissionOutputSerializer(submission).data)

    @extend_schema(tags=["store"], request=s.SubmissionUpdateInputSerializer, responses=s.SubmissionOutputSerializer)
    def put(self, request, version_id):
        """Change a PENDING submission (409 once it is decided); fields left out stay."""
        data = s.SubmissionUpdateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        submission = services.submission_update(user=request.user, version_id=version_id, **data.validated_data)
        return Response(s.SubmissionOutputSerializer(submission).data)

    @extend_schema(tags=["store"], responses={204: None})
    def delete(self, request, version_id):
        """Withdraw a PENDING submission (409 once it is decided)."""
        services.submission_delete(user=request.user, version_id=version_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class SubmissionMediaView(APIView):
    parser_classes = [MultiPartParser]

    @extend_schema(tags=["store"], request=s.FileUploadInputSerializer, responses={201: s.StoredUploadOutputSerializer})
    def post(self, request):
        """Upload an image (PNG, JPEG, GIF, WebP) or video (MP4, WebM) for a store page. It is
        virus-scanned before it is stored: an infected file is refused (400), and while the scanner
        is unreachable every upload is refused (503)."""
        data = s.FileUploadInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        upload = services.media_upload(user=request.user, file=data.validated_data["file"])
        return Response(
            s.StoredUploadOutputSerializer(upload, context={"request": request}).data, status=status.HTTP_201_CREATED
        )


# --- Admin review ------------------------------------------------------------------------------


class AdminSubmissionListView(APIView):
    permission_classes = [IsAuthenticated, IsAdmin, ApiKeyScopes]
    pagination_class = PageNumberPagination

    @extend_schema(
        tags=["store admin"],
        parameters=[s.AdminSubmissionQuerySerializer],
        responses=s.AdminSubmissionOutputSerializer(many=True),
    )
    def get(self, request):
        """Every submission, pending ones first (oldest first)."""
        query = s.AdminSubmissionQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        submissions = selectors.submission_list_for_review(**query.validated_data)
        return paginated(request, self, submissions, s.AdminSubmissionOutputSerializer)


class AdminSubmissionReviewView(APIView):
    permission_classes = [IsAuthenticated, IsAdmin, ApiKeyScopes]

    @extend_schema(
        tags=["store admin"], request=s.ReviewDecisionInputSerializer, responses=s.AdminSubmissionOutputSerializer
    )
    def post(self, request, version_id):
        """Approve or reject a submission; `comments` reach the creator, `internal_comments` stay
        with admins. A rejection needs comments."""
        data = s.ReviewDecisionInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        submission = services.submission_review(reviewer=request.user, version_id=version_id, **data.validated_data)
        submission = selectors.submission_list_for_review().get(id=submission.id)
        return Response(s.AdminSubmissionOutputSerializer(submission).data)


# --- The public store (no login; cached) -------------------------------------------------------


class PublicStoreView(APIView):
    """Readable without logging in; an API key needs read_store. Answers come from the cache."""

    permission_classes = [AllowAny, ApiKeyScopes]
    required_scopes = "read_store"
    pagination_class = PageNumberPagination

    def cached(self, request, build) -> Response:
        key = hashlib.sha256(request.build_absolute_uri().encode()).hexdigest()
        return Response(public_cached(key, build))

    def page(self, request, queryset, serializer_class) -> dict:
        return paginated(request, self, queryset, serializer_class, context={"request": request}).data


class StoreAgentListView(PublicStoreView):
    @extend_schema(
        tags=["store"],
        parameters=[
            OpenApiParameter(
                "search", str, description="Full-text search over name, sub-heading, description and categories."
            ),
            OpenApiParameter("category", str),
            OpenApiParameter("creator", str, description="A creator's username."),
            OpenApiParameter(
                "sort",
                str,
                enum=list(selectors.AGENT_SORTS),
                description="Default: relevance when searching, else recent.",
            ),
        ],
        responses=s.StoreAgentSerializer(many=True),
    )
    def get(self, request):
        query = s.StoreAgentQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return self.cached(
            request,
            lambda: self.page(request, selectors.store_agent_list(**query.validated_data), s.StoreAgentSerializer),
        )


class StoreAgentDetailView(PublicStoreView):
    @extend_schema(tags=["store"], responses=s.StoreAgentDetailSerializer)
    def get(self, request, username, slug):
        def build():
            listing = selectors.store_agent_get(username=username, slug=slug)
            return s.StoreAgentDetailSerializer(listing, context={"request": request}).data

        return self.cached(request, build)


class StoreAgentReviewView(APIView):
    permission_classes = [IsAuthenticated, ApiKeyScopes]

    @extend_schema(
        tags=["store"],
        request=s.StoreReviewInputSerializer,
        responses={201: s.StoreReviewOutputSerializer, 200: s.StoreReviewOutputSerializer},
    )
    def post(self, request, username, slug):
        """Rate the agent's current version, 1 to 5; rating it again changes your rating (200)."""
        data = s.StoreReviewInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        review, created = services.store_review_upsert(
            user=request.user, username=username, slug=slug, **data.validated_data
        )
        return Response(
            s.StoreReviewOutputSerializer(review).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class CreatorListView(PublicStoreView):
    @extend_schema(
        tags=["store"],
        parameters=[
            OpenApiParameter("search", str),
            OpenApiParameter("sort", str, enum=list(selectors.CREATOR_SORTS)),
        ],
        responses=s.CreatorSerializer(many=True),
    )
    def get(self, request):
        query = s.CreatorQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return self.cached(
            request,
            lambda: self.page(request, selectors.creator_list(**query.validated_data), s.CreatorSerializer),
        )


class CreatorDetailView(PublicStoreView):
    @extend_schema(tags=["store"], responses=s.CreatorDetailSerializer)
    def get(self, request, username):
        def build():
            creator = selectors.creator_get(username=username)
            return s.CreatorDetailSerializer(creator, context={"request": request}).data

        return self.cached(request, build)
