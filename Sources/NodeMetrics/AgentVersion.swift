/// The agent's version, as `-version`, /api/v2.0/version, /validate/ and cadvisor_version_info report
/// it: stamped at build time from git by the VersionStamp plugin ("unknown" when built without git).
public enum AgentVersion {
    public static let current = BuildStamp.version
    /// The source revision (cadvisor_version_info's cadvisorRevision): the commit hash.
    public static let revision = BuildStamp.revision
}
