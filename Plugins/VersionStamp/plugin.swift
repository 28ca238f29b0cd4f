import Foundation
import PackagePlugin

/// Bakes the git commit the binaries are built from into `ParleyVersion.commit`, so `--version` names it. It runs
/// before every build (a commit changes nothing SwiftPM watches) and rewrites the file only when the commit
/// changed, so an unchanged tree relinks nothing. Outside a git checkout (a source tarball) the commit is "unknown".
@main
struct VersionStamp: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: any Target) throws -> [Command] {
        let output = context.pluginWorkDirectoryURL.appending(path: "generated")
        let file = output.appending(path: "Commit.swift").path
        let package = context.package.directoryURL.path
        let script = """
            commit=$(git -C '\(package)' rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
            if [ "$commit" != unknown ] && [ -n "$(git -C '\(package)' status --porcelain --untracked-files=no 2>/dev/null)" ]; then
              commit="$commit-modified"
            fi
            line="package let buildCommit = \\"$commit\\""
            mkdir -p '\(output.path)'
            [ "$(cat '\(file)' 2>/dev/null)" = "$line" ] || printf '%s\\n' "$line" > '\(file)'
            """
        return [
            .prebuildCommand(
                displayName: "Stamping the git commit into ParleyVersion",
                executable: URL(fileURLWithPath: "/bin/sh"),
                arguments: ["-c", script],
                outputFilesDirectory: output
            )
        ]
    }
}
