"""What credential look-ups raise. Messages name the credential and provider, never a secret."""

from rest_framework import status

from autogpt_platform.errors import ApplicationError, NotFoundError


class CredentialError(ApplicationError):
    """Base of the errors below: a block that needs a credential catches this one."""


class CredentialNotFound(CredentialError, NotFoundError):
    """No such credential for this user and provider: never existed, deleted, or someone else's."""

    status_code = status.HTTP_404_NOT_FOUND
    code = "credential_not_found"

    def __init__(self, *, credential_id: object, provider: str):
        self.credential_id = str(credential_id)
        self.provider = provider
        super().__init__(
            f"Credential {credential_id} for provider '{provider}' was not found: "
            "it was deleted, or it is not yours. Choose another credential."
        )


class CredentialNotConfigured(CredentialError):
    """No credential was chosen and the operator set no system credential for the provider."""

    status_code = status.HTTP_400_BAD_REQUEST
    code = "credential_not_configured"

    def __init__(self, *, provider: str, setting: str | None):
        self.provider = provider
        self.setting = setting
        if setting:
            message = (
                f"No credential for provider '{provider}': choose one of your credentials, "
                f"or ask the operator to set {setting}."
            )
        else:
            message = f"No credential for provider '{provider}': choose one of your credentials."
        super().__init__(message)


class CredentialUnreadable(CredentialError):
    """The credential's secrets were encrypted under a key no longer in ENCRYPTION_KEYS."""

    status_code = status.HTTP_409_CONFLICT
    code = "credential_unreadable"

    def __init__(self, *, credential_id: object, provider: str):
        self.credential_id = str(credential_id)
        self.provider = provider
        super().__init__(
            f"Credential {credential_id} for provider '{provider}' cannot be decrypted "
            "(its key was dropped from ENCRYPTION_KEYS); delete it and add it again."
        )


class SystemCredentialReadOnly(CredentialError):
    """System credentials are the operator's: users use them, never change or delete them."""

    status_code = status.HTTP_403_FORBIDDEN
    code = "system_credential"

    def __init__(self, *, credential_id: object):
        super().__init__(
            f"Credential {credential_id} is provided by the platform and cannot be deleted; "
            "the operator removes it by unsetting its environment variable."
        )
