package io.raftkv.operator.member;

import java.util.List;

/**
 * Every call the operator makes to a raftkv cluster. Endpoints are client URLs
 * ({@code http://host:port}). All methods block until answered or until their deadline, are
 * thread-safe, and throw {@link MemberClientException} on failure. Membership changes are sent to
 * the current leader; each is one configuration change (etcd: at most one in flight; the node
 * answers FAILED_PRECONDITION to a second).
 */
public interface MemberClient extends AutoCloseable {

    /** The member list, read linearizably from the first of {@code endpoints} that answers. */
    List<Member> memberList(List<String> endpoints);

    /** What the node at {@code endpoint} says about itself. */
    NodeStatus status(String endpoint);

    /** MemberAdd with isLearner: adds a learner at {@code peerUrl}; returns the new member. */
    Member addLearner(List<String> endpoints, String peerUrl);

    /** MemberPromote: makes learner {@code id} a voter (the leader refuses one that has not caught up). */
    void promote(List<String> endpoints, long id);

    /** MemberRemove of {@code id}. */
    void remove(List<String> endpoints, long id);

    /**
     * raftkv.v1.Membership/ChangeMembers: removes {@code oldId} and adds a fresh voter named
     * {@code name} at {@code peerUrl} in one joint configuration change; returns the new member.
     */
    Member replace(List<String> endpoints, long oldId, String name, String peerUrl);

    /** MoveLeader: asks the leader (found among {@code endpoints}) to hand leadership to {@code toId}. */
    void moveLeader(List<String> endpoints, long toId);

    /** Releases connections; never throws. */
    @Override
    void close();
}
