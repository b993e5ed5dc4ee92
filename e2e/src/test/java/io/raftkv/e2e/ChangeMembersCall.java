package io.raftkv.e2e;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.WireFormat;
import io.etcd.jetcd.api.Member;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A client for raftkv's own {@code raftkv.v1.Membership/ChangeMembers} (several membership changes
 * applied at once through joint consensus, Raft thesis §4.3), which jetcd does not know. The
 * messages are encoded by hand from the field numbers in {@code node/server/src/main/proto/raftkv/membership.proto},
 * so that e2e needs no generated stubs (the added members are decoded as etcd's Member, which
 * jetcd ships). Each call opens and closes its own channel.
 */
public final class ChangeMembersCall {
    /** MemberChange.Kind values (membership.proto). */
    public static final int ADD_VOTER = 0;
    public static final int ADD_LEARNER = 1;
    public static final int REMOVE = 2;

    /**
     * One MemberChange.
     *
     * @param kind    {@link #ADD_VOTER}, {@link #ADD_LEARNER} or {@link #REMOVE}
     * @param id      the member to remove or promote; 0 for a new member
     * @param name    the new member's name, or null
     * @param peerUrl the new member's peer URL, or null
     */
    public record Change(int kind, long id, String name, String peerUrl) {
    }

    private ChangeMembersCall() {
    }

    /**
     * Sends {@code changes} to the member whose client URL is {@code url}; returns the members it
     * added. Blocks up to {@code timeout}; a refusal is a StatusRuntimeException with etcd's status.
     */
    public static List<Member> send(String url, List<Change> changes, Duration timeout) {
        try (RawGrpc grpc = new RawGrpc(url)) {
            return added(grpc.unary("raftkv.v1.Membership", "ChangeMembers", encode(changes), timeout));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    /** ChangeMembersRequest { repeated MemberChange changes = 1; }. */
    static byte[] encode(List<Change> changes) {
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            CodedOutputStream request = CodedOutputStream.newInstance(out);
            for (Change c : changes) {
                ByteArrayOutputStream inner = new ByteArrayOutputStream();
                CodedOutputStream change = CodedOutputStream.newInstance(inner);
                change.writeEnum(1, c.kind());
                change.writeUInt64(2, c.id());
                if (c.name() != null) {
                    change.writeString(3, c.name());
                }
                if (c.peerUrl() != null) {
                    change.writeString(4, c.peerUrl());
                }
                change.flush();
                request.writeByteArray(1, inner.toByteArray());
            }
            request.flush();
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** ChangeMembersResponse.added (field 2): etcd Members. */
    static List<Member> added(byte[] response) {
        try {
            List<Member> added = new ArrayList<>();
            CodedInputStream in = CodedInputStream.newInstance(response);
            for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
                if (WireFormat.getTagFieldNumber(tag) == 2) {
                    added.add(Member.parseFrom(in.readByteArray()));
                } else {
                    in.skipField(tag);
                }
            }
            return added;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
