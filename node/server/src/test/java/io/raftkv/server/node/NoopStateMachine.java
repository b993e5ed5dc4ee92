package io.raftkv.server.node;

import io.raftkv.raft.ConfChange;

/** A state machine that does nothing, for driver tests that override only what they observe. */
class NoopStateMachine implements RaftDriver.StateMachine {
    @Override
    public Object apply(long index, byte[] data) {
        return index;
    }

    @Override
    public void applyConfChange(long index, ConfChange cc) {
    }

    @Override
    public void applyNoop(long index) {
    }

    @Override
    public long requestId(byte[] data) {
        return 0;
    }

    @Override
    public long confRequestId(ConfChange cc) {
        return 0;
    }

    @Override
    public byte[] snapshotPayload() {
        return new byte[0];
    }

    @Override
    public void installSnapshot(long index, byte[] payload) {
    }

    @Override
    public byte[] localSnapshotData() {
        return new byte[0];
    }

    @Override
    public void startSync() {
    }

    @Override
    public long durableIndex() {
        return 0;
    }
}
