from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from knox.models import AuthToken
from simple_history.admin import SimpleHistoryAdmin

from accounts.models import Organisation, User
from accounts.security import BoundedUsername


class AdminLoginForm(BoundedUsername, AdminAuthenticationForm):
    """The admin's login form, refusing an overlong username with a clear message."""


admin.site.login_form = AdminLoginForm


@admin.register(Organisation)
class OrganisationAdmin(SimpleHistoryAdmin):
    list_display = ["name", "register_number", "register_status"]
    list_filter = ["register_status"]
    search_fields = ["name", "register_number"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "email", "role", "organisation", "ministry", "is_active"]
    list_filter = ["role", "ministry", "is_active", "organisation"]
    fieldsets = [
        *BaseUserAdmin.fieldsets,
        ("Role", {"fields": ["role", "organisation", "ministry"]}),
    ]
    add_fieldsets = [
        *BaseUserAdmin.add_fieldsets,
        ("Role", {"fields": ["role", "organisation", "ministry", "email"]}),
    ]


# API tokens: knox stores only digests; this admin shows whose tokens exist and until when,
# never a token or its digest, issues none (a token is issued to its user by the API), and
# revokes by deleting.
admin.site.unregister(AuthToken)


@admin.register(AuthToken)
class AuthTokenAdmin(admin.ModelAdmin):
    list_display = ["user", "created", "expiry"]
    list_filter = ["created", "expiry"]
    search_fields = ["user__username"]
    fields = ["user", "created", "expiry"]
    readonly_fields = fields
    ordering = ["-created"]
    list_select_related = ["user"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
