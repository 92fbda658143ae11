"""The review queue in the Django admin: pending submissions first, the agent's graph and media on
the page, and approve/reject actions that ask for the public and internal comments."""

import json

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.template.response import TemplateResponse
from django.utils.html import format_html, format_html_join

from agents.blocks import get_block
from autogpt_platform.errors import ApplicationError

from . import selectors, services
from .models import Profile, StoreListing, StoreListingVersion, StoreReview


class ReviewDecisionForm(forms.Form):
    comments = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4, "cols": 80}),
        required=False,
        help_text="Shown to the creator. Required when rejecting.",
    )
    internal_comments = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 80}), required=False, help_text="Seen by admins only."
    )


def _review_action(modeladmin, request, queryset, *, is_approved: bool):
    verb = "approve" if is_approved else "reject"
    form = ReviewDecisionForm(request.POST if "apply" in request.POST else None)
    if form.is_bound and form.is_valid():
        try:
            for submission in queryset:
                services.submission_review(
                    reviewer=request.user, version_id=submission.id, is_approved=is_approved, **form.cleaned_data
                )
        except ApplicationError as error:
            for field, problems in error.details.items():
                form.add_error(field if field in form.fields else None, problems)
        else:
            count = len(queryset)
            decided = "approved" if is_approved else "rejected"
            modeladmin.message_user(request, f"{count} submission(s) {decided}.", messages.SUCCESS)
            return None  # back to the list
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": f"{verb.capitalize()} submissions",
        "verb": verb,
        "action": f"{verb}_submissions",
        "form": form,
        "submissions": queryset,
        "opts": modeladmin.model._meta,
        "action_checkbox_name": ACTION_CHECKBOX_NAME,
    }
    return TemplateResponse(request, "admin/store/review_decision.html", context)


@admin.register(StoreListingVersion)
class StoreListingVersionAdmin(admin.ModelAdmin):
    list_display = ["name", "creator", "version", "status", "submitted_at", "reviewed_at", "reviewer"]
    list_filter = ["status"]
    search_fields = ["name", "listing__slug", "listing__owner__email", "listing__owner__store_profile__username"]
    actions = ["approve_submissions", "reject_submissions"]
    fieldsets = [
        ("Submission", {"fields": ["listing", "creator", "version", "status", "submitted_at"]}),
        (
            "Store page",
            {"fields": ["name", "sub_heading", "description", "instructions", "categories", "images_and_video"]},
        ),
        ("Agent", {"fields": ["graph_version", "agent_graph"]}),
        ("Decision", {"fields": ["reviewer", "reviewed_at", "review_comments", "internal_comments"]}),
    ]

    def get_queryset(self, request):
        return selectors.submission_list_for_review()

    def get_ordering(self, request):
        return ["pending_first", "submitted_at"]

    # Decisions go through the actions (and so through the review service); the page is read-only.
    def get_readonly_fields(self, request, obj=None):
        return [field for fieldset in self.fieldsets for field in fieldset[1]["fields"]]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="Creator")
    def creator(self, submission):
        profile = getattr(submission.listing.owner, "store_profile", None)
        return f"{profile.username if profile else '-'} ({submission.listing.owner.email})"

    @admin.display(description="Images and video")
    def images_and_video(self, submission):
        images = format_html_join(
            "",
            '<a href="{0}" target="_blank"><img src="{0}" style="max-height:120px;margin:0 8px 8px 0"></a>',
            ((url,) for url in submission.image_urls),
        )
        video = format_html('<p>Video: <a href="{0}" target="_blank">{0}</a></p>', submission.video_url)
        return format_html("{}{}", images, video if submission.video_url else "") or "-"

    @admin.display(description="Graph (nodes and links)")
    def agent_graph(self, submission):
        graph_version = submission.graph_version
        nodes = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td><code>{}</code></td></tr>",
            (
                (
                    node.node_id,
                    getattr(get_block(node.block_id), "name", f"unknown block {node.block_id}"),
                    json.dumps(node.input_default)[:300],
                )
                for node in graph_version.nodes.all()
            ),
        )
        links = format_html_join(
            "",
            "<tr><td>{}.{}</td><td>&rarr;</td><td>{}.{}{}</td></tr>",
            (
                (link.source_id, link.source_name, link.sink_id, link.sink_name, " (static)" if link.is_static else "")
                for link in graph_version.links.all()
            ),
        )
        return format_html(
            "<table><tr><th>Node</th><th>Block</th><th>Inputs</th></tr>{}</table>"
            "<table><tr><th>From</th><th></th><th>To</th></tr>{}</table>",
            nodes,
            links,
        )

    @admin.action(description="Approve selected submissions")
    def approve_submissions(self, request, queryset):
        return _review_action(self, request, queryset, is_approved=True)

    @admin.action(description="Reject selected submissions")
    def reject_submissions(self, request, queryset):
        return _review_action(self, request, queryset, is_approved=False)


class StoreListingVersionInline(admin.TabularInline):
    model = StoreListingVersion
    extra = 0
    fields = readonly_fields = ("version", "name", "status", "submitted_at", "reviewed_at")
    show_change_link = True
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(StoreListing)
class StoreListingAdmin(admin.ModelAdmin):
    list_display = ["slug", "owner", "active_version", "updated_at"]
    search_fields = ["slug", "owner__email"]
    readonly_fields = ["owner", "graph", "slug", "active_version"]
    inlines = [StoreListingVersionInline]


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    list_display = ["username", "name", "user", "updated_at"]
    search_fields = ["username", "name", "user__email"]


@admin.register(StoreReview)
class StoreReviewAdmin(admin.ModelAdmin):
    list_display = ["listing_version", "user", "score", "updated_at"]
    list_filter = ["score"]
    search_fields = ["listing_version__name", "user__email"]
