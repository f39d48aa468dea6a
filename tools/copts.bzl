"""Compiler flags for ringactor's own code (not for system libraries)."""

RINGACTOR_COPTS = [
    "-Wall",
    "-Wextra",
    "-Werror",
    "-Wno-unused-parameter",
]

# Who may depend on each layer: a layer sees only the layers below it
# (DESIGN.md: io <- transport <- scheduler <- actors <- examples).
IO_USERS = [
    "//transport:__subpackages__",
    "//scheduler:__subpackages__",
    "//actors:__subpackages__",
    "//tests:__subpackages__",
    "//bench:__subpackages__",
    "//examples:__subpackages__",
]
TRANSPORT_USERS = [
    "//scheduler:__subpackages__",
    "//actors:__subpackages__",
    "//tests:__subpackages__",
    "//bench:__subpackages__",
    "//examples:__subpackages__",
]
SCHEDULER_USERS = [
    "//actors:__subpackages__",
    "//tests:__subpackages__",
    "//bench:__subpackages__",
    "//examples:__subpackages__",
]
ACTORS_USERS = ["//visibility:public"]
