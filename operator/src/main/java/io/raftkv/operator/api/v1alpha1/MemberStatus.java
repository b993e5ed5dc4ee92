package io.raftkv.operator.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** One member as last observed: identity from the member list, health and progress from the member itself. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class MemberStatus {

    /** Voting right in the Raft configuration. */
    public enum Role {
        /** Counts towards quorum. */
        voter,
        /** Receives the log but does not vote (Raft thesis §4.2.1, etcd learners). */
        learner
    }

    @JsonPropertyDescription("Member (and pod) name.")
    private String name;

    @JsonPropertyDescription("Member id, hexadecimal as etcdctl prints it.")
    private String id;

    @JsonPropertyDescription("Advertised peer URL.")
    private String peerURL;

    @JsonPropertyDescription("voter or learner.")
    private Role role;

    @JsonPropertyDescription("Whether this member leads.")
    private boolean isLeader;

    @JsonPropertyDescription("Whether the member answers and knows a leader.")
    private boolean healthy;

    @JsonPropertyDescription("Version the member reports.")
    private String version;

    @JsonPropertyDescription("Last Raft index applied by the member.")
    private Long raftAppliedIndex;

    /** Name. */
    public String getName() {
        return name;
    }

    /** Sets the name. */
    public void setName(String name) {
        this.name = name;
    }

    /** Id in hex. */
    public String getId() {
        return id;
    }

    /** Sets the id. */
    public void setId(String id) {
        this.id = id;
    }

    /** Peer URL. */
    public String getPeerURL() {
        return peerURL;
    }

    /** Sets the peer URL. */
    public void setPeerURL(String peerURL) {
        this.peerURL = peerURL;
    }

    /** Role. */
    public Role getRole() {
        return role;
    }

    /** Sets the role. */
    public void setRole(Role role) {
        this.role = role;
    }

    /** Leader flag. */
    public boolean getIsLeader() {
        return isLeader;
    }

    /** Sets the leader flag. */
    public void setIsLeader(boolean isLeader) {
        this.isLeader = isLeader;
    }

    /** Health. */
    public boolean isHealthy() {
        return healthy;
    }

    /** Sets the health. */
    public void setHealthy(boolean healthy) {
        this.healthy = healthy;
    }

    /** Reported version. */
    public String getVersion() {
        return version;
    }

    /** Sets the version. */
    public void setVersion(String version) {
        this.version = version;
    }

    /** Applied index. */
    public Long getRaftAppliedIndex() {
        return raftAppliedIndex;
    }

    /** Sets the applied index. */
    public void setRaftAppliedIndex(Long raftAppliedIndex) {
        this.raftAppliedIndex = raftAppliedIndex;
    }
}
