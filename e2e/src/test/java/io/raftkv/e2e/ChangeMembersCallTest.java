package io.raftkv.e2e;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.WireFormat;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The hand-written encoding of raftkv.v1 ChangeMembers messages follows membership.proto's field numbers. */
class ChangeMembersCallTest {

    @Test
    void requestCarriesEachChangeAsARepeatedField1WithKindIdNameAndPeerUrl() throws Exception {
        byte[] request = ChangeMembersCall.encode(List.of(
                new ChangeMembersCall.Change(ChangeMembersCall.REMOVE, 0xABCDEF0123L, null, null),
                new ChangeMembersCall.Change(ChangeMembersCall.ADD_VOTER, 0, "n7", "http://10.77.1.16:2380")));
        CodedInputStream in = CodedInputStream.newInstance(request);
        List<List<Object>> changes = new ArrayList<>();
        for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
            assertThat(WireFormat.getTagFieldNumber(tag)).isEqualTo(1);
            CodedInputStream change = CodedInputStream.newInstance(in.readByteArray());
            List<Object> fields = new ArrayList<>();
            for (int t = change.readTag(); t != 0; t = change.readTag()) {
                switch (WireFormat.getTagFieldNumber(t)) {
                    case 1 -> fields.add("kind=" + change.readEnum());
                    case 2 -> fields.add("id=" + change.readUInt64());
                    case 3 -> fields.add("name=" + change.readString());
                    case 4 -> fields.add("peer=" + change.readString());
                    default -> throw new AssertionError("unexpected field " + t);
                }
            }
            changes.add(fields);
        }
        assertThat(changes).containsExactly(
                List.of("kind=2", "id=" + 0xABCDEF0123L),
                List.of("kind=0", "id=0", "name=n7", "peer=http://10.77.1.16:2380"));
    }

    @Test
    void addedMembersAreReadFromField2SkippingHeaderAndMemberList() throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        CodedOutputStream out = CodedOutputStream.newInstance(bytes);
        out.writeByteArray(1, member(99, "header-like"));  // header: skipped
        out.writeByteArray(2, member(7, "n7"));
        out.writeByteArray(2, member(8, "n8"));
        out.writeByteArray(3, member(1, "n1"));  // members: skipped
        out.flush();
        assertThat(ChangeMembersCall.added(bytes.toByteArray())).extracting(m -> m.getID()).containsExactly(7L, 8L);
    }

    private static byte[] member(long id, String name) throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        CodedOutputStream m = CodedOutputStream.newInstance(bytes);
        m.writeUInt64(1, id);
        m.writeString(2, name);
        m.writeString(3, "http://peer");
        m.flush();
        return bytes.toByteArray();
    }
}
