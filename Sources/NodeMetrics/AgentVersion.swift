/// The agent's version, as /api/v2.0/version, /validate/ and cadvisor_version_info report it.
public enum AgentVersion {
    public static let current = "0.1.0"
    /// The source revision (cadvisor_version_info's cadvisorRevision); set by release builds.
    public static let revision = ""
}
