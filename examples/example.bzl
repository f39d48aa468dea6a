"""actor_example: one example program, its messages and its test.

    actor_example(
        name = "counter",                  # counter.cc and counter.proto
        test_args = ["--increments=2000"], # small flags for the test
    )

defines `:<name>` (a cc_binary), `:<proto>_proto` from `<proto>.proto`
(`proto` defaults to `name`), and
`:<name>_test`, which runs the program with `test_args` and requires it to
exit 0 and print a line starting with OK (run_example_test.sh).
"""

load("//tools:copts.bzl", "RINGACTOR_COPTS")
load("//tools:proto.bzl", "ringactor_proto_library")

def actor_example(name, test_args, proto = None, deps = []):
    proto = proto or name
    ringactor_proto_library(
        name = proto + "_proto",
        srcs = [proto + ".proto"],
    )
    native.cc_binary(
        name = name,
        srcs = [name + ".cc"],
        copts = RINGACTOR_COPTS,
        deps = [
            ":" + proto + "_proto",
            "//actors",
            "//third_party/system:absl",
        ] + deps,
    )
    native.sh_test(
        name = name + "_test",
        size = "small",
        srcs = ["run_example_test.sh"],
        args = ["$(location :%s)" % name] + test_args,
        data = [":" + name],
    )
