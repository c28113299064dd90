from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django_otp.plugins.otp_totp.admin import TOTPDeviceAdmin
from django_otp.plugins.otp_totp.models import TOTPDevice
from knox.models import AuthToken
from simple_history.admin import SimpleHistoryAdmin

from accounts.models import Organisation, User
from accounts.security import end_other_access


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


# Authenticators: django-otp's admin (keys hidden, OTP_ADMIN_HIDE_SENSITIVE_DATA), where an
# administrator removes a lost one. Removing a person's authenticator (deleting it, one or
# several at once, or unticking "confirmed") also ends that person's API tokens and
# sessions: whoever held the lost phone and a session or token keeps neither.
admin.site.unregister(TOTPDevice)


@admin.register(TOTPDevice)
class AuthenticatorAdmin(TOTPDeviceAdmin):
    def delete_model(self, request, obj) -> None:
        super().delete_model(request, obj)
        if obj.confirmed:
            end_other_access(obj.user, request=request)

    def delete_queryset(self, request, queryset) -> None:
        holders = set(queryset.filter(confirmed=True).values_list("user_id", flat=True))
        super().delete_queryset(request, queryset)
        for user in User.objects.filter(pk__in=holders):
            end_other_access(user, request=request)

    def save_model(self, request, obj, form, change) -> None:
        before = TOTPDevice.objects.filter(pk=obj.pk, confirmed=True).values("user_id").first()
        super().save_model(request, obj, form, change)
        if before and (not obj.confirmed or obj.user_id != before["user_id"]):
            end_other_access(User.objects.get(pk=before["user_id"]), request=request)
