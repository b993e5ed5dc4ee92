package io.raftkv.operator.member;

/**
 * What one node says about itself (etcd's Maintenance.Status).
 *
 * @param memberId the id the process runs as (response header)
 * @param leaderId the leader it knows, 0 for none
 * @param appliedIndex last applied Raft index
 * @param learner whether it is a learner
 * @param version the server version string
 */
public record NodeStatus(long memberId, long leaderId, long appliedIndex, boolean learner, String version) {}
