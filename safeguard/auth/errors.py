from safeguard.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthorized


class MissingCredentials(Unauthorized):
    code = "missing-credentials"
    title = "Missing credentials"


class InvalidCredentials(Unauthorized):
    code = "invalid-credentials"
    title = "Invalid credentials"


class RoleNotAllowed(Forbidden):
    code = "role-not-allowed"
    title = "Role not allowed"


class UnknownRole(InvalidInput):
    code = "unknown-role"
    title = "Unknown role"


class ApiKeyNotFound(NotFound):
    code = "api-key-not-found"
    title = "API key not found"


class ApiKeyAlreadyRevoked(Conflict):
    code = "api-key-revoked"
    title = "API key already revoked"


class UnknownUser(InvalidInput):
    code = "unknown-user"
    title = "Unknown user"
