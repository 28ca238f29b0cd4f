/// The version every Parley binary reports, and the git commit it was built from (baked in by the VersionStamp
/// plugin; `-modified` when the tree had uncommitted changes, `unknown` outside a git checkout).
public enum ParleyVersion {
    public static let version = "0.2.0"
    public static let commit = buildCommit

    /// `NAME VERSION (COMMIT)`, as `--version` prints it.
    public static func line(_ name: String) -> String { "\(name) \(Self.version) (\(Self.commit))" }
}
