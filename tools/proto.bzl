"""ringactor_proto_library: .proto files -> a cc_library, with the system protoc.

    load("@ringactor//tools:proto.bzl", "ringactor_proto_library")  # or //tools:proto.bzl
    ringactor_proto_library(
        name = "kv_proto",
        srcs = ["kv.proto"],
        deps = [":common_proto"],  # other ringactor_proto_library targets
    )

Include the generated header as "<package>/kv.pb.h". Imports are resolved
from the root of the repository that holds the .proto files.
"""

def ringactor_proto_library(name, srcs, deps = [], visibility = None, testonly = False):
    repo = native.repository_name()
    root = "." if repo == "@" else "external/" + repo[1:]
    stems = [s[:-len(".proto")] for s in srcs]
    hdrs = [s + ".pb.h" for s in stems]
    ccs = [s + ".pb.cc" for s in stems]

    # The .proto files, for targets that import them.
    native.filegroup(
        name = name + "_proto_srcs",
        srcs = srcs + [d + "_proto_srcs" for d in deps],
        visibility = visibility,
        testonly = testonly,
    )
    native.genrule(
        name = name + "_protoc",
        srcs = srcs + [name + "_proto_srcs"],
        outs = hdrs + ccs,
        cmd = "protoc -I{root} --cpp_out=$(GENDIR)/{root} {files}".format(
            root = root,
            files = " ".join(["$(location %s)" % s for s in srcs]),
        ),
        testonly = testonly,
    )
    native.cc_library(
        name = name,
        srcs = ccs,
        hdrs = hdrs,
        deps = deps + [Label("//third_party/system:protobuf")],
        visibility = visibility,
        testonly = testonly,
    )
