"""ringactor_benchmark: a comparison benchmark and the smoke test that keeps it
from rotting."""

load("//tools:copts.bzl", "RINGACTOR_COPTS")

def ringactor_benchmark(name, srcs, deps, smoke_variants = {}):
    """`bazel run -c opt //bench:<name>`, and `<name>_smoke_test`.

    The smoke test runs the binary with --smoke and checks its BENCH lines.
    `smoke_variants` maps a suffix to extra flags: each adds a smoke test
    `<name>_<suffix>_smoke_test` run with them, so optional modes do not
    rot either. All are tagged "benchmark": the sanitizer configs skip them
    (they link CAF, which is not built with sanitizers).
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
    for suffix, flags in smoke_variants.items():
        native.sh_test(
            name = "%s_%s_smoke_test" % (name, suffix),
            size = "small",
            srcs = ["smoke_test.sh"],
            args = ["$(location :%s)" % name] + flags,
            data = [":" + name],
            tags = ["benchmark"],
        )
