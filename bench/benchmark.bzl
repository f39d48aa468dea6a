"""ringactor_benchmark: a comparison benchmark and the smoke test that keeps it
from rotting."""

load("//tools:copts.bzl", "RINGACTOR_COPTS")

def ringactor_benchmark(name, srcs, deps):
    """`bazel run -c opt //bench:<name>`, and `<name>_smoke_test`.

    The smoke test runs the binary with --smoke and checks its BENCH lines.
    Both are tagged "benchmark": the sanitizer configs skip them (they link
    CAF, which is not built with sanitizers).
    """
    native.cc_binary(
        name = name,
        testonly = True,
        srcs = srcs,
        copts = RINGACTOR_COPTS,
        tags = ["benchmark"],
        deps = deps,
    )
    native.sh_test(
        name = name + "_smoke_test",
        size = "small",
        srcs = ["smoke_test.sh"],
        args = ["$(location :%s)" % name],
        data = [":" + name],
        tags = ["benchmark"],
    )
