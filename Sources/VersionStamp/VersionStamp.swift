import Foundation
import PackagePlugin

/// Stamps the agent's version and source revision into the NodeMetrics module at build time
/// (`BuildStamp.version`, `BuildStamp.revision`): from `NODE_METRICS_VERSION` / `NODE_METRICS_REVISION`
/// when set (the Dockerfile's build arguments), else from git (`git describe --tags`, or
/// `0.1.0-<commits>-g<hash>` before the first tag; `-dirty` with uncommitted changes; the revision is
/// the commit hash), else "unknown" (a source tarball without .git). The file is rewritten only when
/// the stamp changes, so an unchanged tree recompiles nothing.
@main
struct VersionStamp: BuildToolPlugin {
    static let script = #"""
        set -u
        dir=$1; out=$2
        clean() { printf '%s' "$1" | tr -cd 'A-Za-z0-9._+-'; }
        version=$(clean "${NODE_METRICS_VERSION:-}"); revision=$(clean "${NODE_METRICS_REVISION:-}")
        if [ -e "$dir/.git" ] && command -v git >/dev/null 2>&1; then
          [ -n "$revision" ] || revision=$(git -C "$dir" rev-parse HEAD 2>/dev/null || true)
          if [ -z "$version" ]; then
            version=$(git -C "$dir" describe --tags --dirty 2>/dev/null | sed 's/^v//' || true)
            if [ -z "$version" ] && short=$(git -C "$dir" rev-parse --short HEAD 2>/dev/null); then
              dirty=$(git -C "$dir" diff --quiet HEAD -- 2>/dev/null || echo -dirty)
              version="0.1.0-$(git -C "$dir" rev-list --count HEAD 2>/dev/null || echo 0)-g$short$dirty"
            fi
          fi
        fi
        version=$(clean "${version:-unknown}"); revision=$(clean "${revision:-unknown}")
        mkdir -p "$out"
        file="$out/BuildStamp.swift"
        text="// Generated at build time by the VersionStamp plugin (Sources/VersionStamp).
        enum BuildStamp {
            static let version = \"${version:-unknown}\"
            static let revision = \"${revision:-unknown}\"
        }"
        [ -f "$file" ] && [ "$(cat "$file")" = "$text" ] || printf '%s\n' "$text" >"$file"
        """#

    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let out = context.pluginWorkDirectoryURL.appending(path: "stamp")
        var environment: [String: String] = [:]
        for key in ["NODE_METRICS_VERSION", "NODE_METRICS_REVISION", "PATH"] {
            if let value = ProcessInfo.processInfo.environment[key] { environment[key] = value }
        }
        return [.prebuildCommand(displayName: "Stamping the version from git",
                                 executable: URL(fileURLWithPath: "/bin/sh"),
                                 arguments: ["-c", Self.script, "stamp", context.package.directoryURL.path, out.path],
                                 environment: environment, outputFilesDirectory: out)]
    }
}
