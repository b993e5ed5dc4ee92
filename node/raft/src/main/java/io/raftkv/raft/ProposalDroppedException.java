package io.raftkv.raft;

/**
 * A proposal, configuration change or read was refused by this node: no known leader, a leadership
 * transfer in progress, another configuration change in flight, or an invalid change. Nothing was
 * appended; the caller may retry (possibly elsewhere).
 */
public final class ProposalDroppedException extends RuntimeException {
    /** Creates the exception with a reason the caller can log. */
    public ProposalDroppedException(String reason) {
        super(reason, null, false, false);
    }
}
