from safeguard.errors import Conflict, InvalidInput, NotFound, Unauthorized


class UserExists(Conflict):
    code = "user-exists"
    title = "User exists"


class UserNotFound(NotFound):
    code = "user-not-found"
    title = "User not found"


class WeakPassword(InvalidInput):
    code = "weak-password"
    title = "Weak password"


class InvalidUsername(InvalidInput):
    code = "invalid-username"
    title = "Invalid user name"


class SessionInvalid(Unauthorized):
    code = "session-invalid"
    title = "Session invalid"
