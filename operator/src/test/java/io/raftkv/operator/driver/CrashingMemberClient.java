package io.raftkv.operator.driver;

import io.raftkv.operator.member.Member;
import io.raftkv.operator.member.MemberClient;
import io.raftkv.operator.member.NodeStatus;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Test decorator: counts every membership change that the cluster accepted, and "kills the
 * operator" right after the accepted calls named in {@code crashAfter} (by throwing before the
 * driver learns the call succeeded), as if the process died between the RPC and its next step.
 */
final class CrashingMemberClient implements MemberClient {
    /** Thrown in place of the operator dying. */
    static final class OperatorKilled extends RuntimeException {
        private static final long serialVersionUID = 1L;

        OperatorKilled(String call) {
            super("operator killed right after " + call + " was accepted");
        }
    }

    private final MemberClient delegate;
    private final Map<String, AtomicInteger> accepted;
    private final Set<String> crashAfter;

    /**
     * @param accepted shared counters, by call name, that outlive operator instances
     * @param crashAfter "call#n" entries: crash after the n-th accepted call of that kind
     */
    CrashingMemberClient(MemberClient delegate, Map<String, AtomicInteger> accepted, Set<String> crashAfter) {
        this.delegate = delegate;
        this.accepted = accepted;
        this.crashAfter = crashAfter;
    }

    static Map<String, AtomicInteger> counters() {
        return new ConcurrentHashMap<>();
    }

    private void count(String call) {
        int n = accepted.computeIfAbsent(call, c -> new AtomicInteger()).incrementAndGet();
        if (crashAfter.contains(call + "#" + n)) {
            throw new OperatorKilled(call + "#" + n);
        }
    }

    @Override
    public List<Member> memberList(List<String> endpoints) {
        return delegate.memberList(endpoints);
    }

    @Override
    public NodeStatus status(String endpoint) {
        return delegate.status(endpoint);
    }

    @Override
    public Member addLearner(List<String> endpoints, String peerUrl) {
        Member m = delegate.addLearner(endpoints, peerUrl);
        count("addLearner");
        return m;
    }

    @Override
    public void promote(List<String> endpoints, long id) {
        delegate.promote(endpoints, id);
        count("promote");
    }

    @Override
    public void remove(List<String> endpoints, long id) {
        delegate.remove(endpoints, id);
        count("remove");
    }

    @Override
    public Member replace(List<String> endpoints, long oldId, String name, String peerUrl) {
        Member m = delegate.replace(endpoints, oldId, name, peerUrl);
        count("replace");
        return m;
    }

    @Override
    public void moveLeader(List<String> endpoints, long toId) {
        delegate.moveLeader(endpoints, toId);
        count("moveLeader");
    }

    @Override
    public void close() {
        delegate.close();
    }
}
