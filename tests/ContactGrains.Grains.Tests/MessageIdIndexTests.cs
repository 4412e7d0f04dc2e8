using ContactGrains.Grains.Conversations;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;

namespace ContactGrains.Grains.Tests;

/// <summary>
/// The conversation's deduplication index: what it remembers, what it forgets, and that a stored or
/// copied index (and a row stored when the index was a dictionary) answers the same.
/// </summary>
public sealed class MessageIdIndexTests : IDisposable
{
    private readonly ServiceProvider _services = new ServiceCollection()
        .AddSerializer(s => s.AddAssembly(typeof(ConversationState).Assembly).AddAssembly(typeof(MessageIdIndexTests).Assembly))
        .BuildServiceProvider();

    public void Dispose() => _services.Dispose();

    // Message ids as adapters send them: provider ids, UUIDs, numbers, long and non-ASCII ones.
    public static TheoryData<string[]> Ids => new()
    {
        { ["wamid.HBgLMTU1NTEyMzQ1NjcVAgASGBQzQUZCRjA4", "wamid.HBgLMTU1NTEyMzQ1NjcVAgASGBQzQUZCRjA5"] },
        { ["9f1c2a4e-6b1d-4d5e-a1f0-3c2b7e8d9a01", "SM2c4b3f0e9a8d7c6b5a4f3e2d1c0b9a8f", "1", "01", "10"] },
        { ["msg-é-1", "msg-e-1", "メッセージ-1", new string('x', 200)] },
    };

    [Theory]
    [MemberData(nameof(Ids))]
    public void Remembered_ids_are_found_at_their_sequence_and_others_are_not(string[] ids)
    {
        var index = new MessageIdIndex();
        for (var i = 0; i < ids.Length; i++)
        {
            index.Remember(ids[i], sequence: 2 * i + 2, keepAtLeast: 256);
        }

        for (var i = 0; i < ids.Length; i++)
        {
            Assert.True(index.TryFind(ids[i], out var sequence));
            Assert.Equal(2 * i + 2, sequence);
        }

        Assert.False(index.TryFind(ids[0] + "-resent-with-suffix", out _));
        Assert.False(index.TryFind("", out _));
        Assert.Equal(ids.Length, index.Count);
    }

    [Theory]
    [InlineData(1, 3)]
    [InlineData(4, 8)]
    [InlineData(4, 9)]
    [InlineData(256, 513)]
    [InlineData(256, 2000)]
    public void Past_twice_the_kept_count_the_oldest_are_forgotten_and_at_least_the_kept_count_of_newest_stay(int keep, int remembered)
    {
        var index = new MessageIdIndex();
        for (var i = 1; i <= remembered; i++)
        {
            index.Remember($"m{i}", i, keep);
            Assert.InRange(index.Count, Math.Min(i, keep), 2 * keep);
        }

        for (var i = 1; i <= remembered; i++)
        {
            var found = index.TryFind($"m{i}", out var sequence);
            if (i > remembered - keep)
            {
                Assert.True(found, $"m{i} (one of the newest {keep}) was forgotten");
            }

            if (found)
            {
                Assert.Equal(i, sequence);
            }
        }

        Assert.False(index.TryFind("m0", out _));
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(4_294_967_296)]
    public void A_sequence_the_packed_entry_cannot_hold_is_refused_and_nothing_is_remembered(long sequence)
    {
        var index = new MessageIdIndex();
        Assert.Throws<ArgumentOutOfRangeException>(() => index.Remember("m1", sequence, keepAtLeast: 256));
        Assert.Equal(0, index.Count);
        index.Remember("m1", uint.MaxValue, keepAtLeast: 256);
        Assert.True(index.TryFind("m1", out var stored) && stored == uint.MaxValue);
    }

    [Fact]
    public void A_copy_answers_as_the_original_and_stays_as_it_was_when_the_original_goes_on()
    {
        var original = new MessageIdIndex();
        for (var i = 1; i <= 8; i++)
        {
            original.Remember($"m{i}", i, keepAtLeast: 4);
        }

        var copy = _services.GetRequiredService<DeepCopier>().Copy(original);
        // The original prunes and grows in place after the copy was made; the copy must not see it.
        for (var i = 9; i <= 40; i++)
        {
            original.Remember($"m{i}", i, keepAtLeast: 4);
        }

        copy.Remember("m-copy", 100, keepAtLeast: 8);

        Assert.Equal(8 + 1, copy.Count);
        Assert.All(Enumerable.Range(1, 8), i => Assert.True(copy.TryFind($"m{i}", out var s) && s == i));
        Assert.False(copy.TryFind("m40", out _));
        Assert.True(original.TryFind("m40", out _));
        Assert.False(original.TryFind("m-copy", out _));
    }

    [Fact]
    public void An_index_given_another_index_entries_with_room_to_spare_keeps_its_own_copy()
    {
        var first = new MessageIdIndex();
        for (var i = 1; i <= 5; i++)
        {
            first.Remember($"m{i}", i, keepAtLeast: 256); // 5 entries in room for 8
        }

        var second = new MessageIdIndex { Packed = first.Packed };
        first.Remember("only-first", 6, keepAtLeast: 256);
        second.Remember("only-second", 7, keepAtLeast: 256);

        Assert.True(first.TryFind("only-first", out var f) && f == 6);
        Assert.False(first.TryFind("only-second", out _));
        Assert.True(second.TryFind("only-second", out var s) && s == 7);
        Assert.False(second.TryFind("only-first", out _));
        Assert.All(Enumerable.Range(1, 5), i => Assert.True(first.TryFind($"m{i}", out _) && second.TryFind($"m{i}", out _)));
    }

    [Fact]
    public void A_serialized_index_reads_back_with_the_same_entries()
    {
        var index = new MessageIdIndex();
        for (var i = 1; i <= 300; i++)
        {
            index.Remember($"wamid.{i}", 3 * i, keepAtLeast: 256);
        }

        var serializer = _services.GetRequiredService<Serializer>();
        var read = serializer.Deserialize<MessageIdIndex>(serializer.SerializeToArray(index))!;

        Assert.Equal(index.Count, read.Count);
        Assert.True(index.Packed.Span.SequenceEqual(read.Packed.Span));
        Assert.True(read.TryFind("wamid.300", out var last) && last == 900);
        read.Remember("wamid.301", 903, keepAtLeast: 256);
        Assert.True(read.TryFind("wamid.301", out _));
    }

    [Fact]
    public void A_conversation_row_stored_with_dictionaries_reads_into_the_packed_indexes_and_is_written_with_them_empty()
    {
        var legacy = new ConversationRowWithDictionaries
        {
            Status = Contracts.ConversationStatus.Open,
            RecentMessageIds = new() { [StableHash.Of("m2")] = 6, [StableHash.Of("m1")] = 2 },
            RecentAgentMessageIds = new() { [StableHash.Of("agent-7:a1")] = 4 },
        };
        var serializer = _services.GetRequiredService<Serializer>();

        var state = serializer.Deserialize<ConversationState>(serializer.SerializeToArray(legacy))!;

        Assert.Equal(Contracts.ConversationStatus.Open, state.Status);
        Assert.True(state.RecentMessageIds.TryFind("m1", out var m1) && m1 == 2);
        Assert.True(state.RecentMessageIds.TryFind("m2", out var m2) && m2 == 6);
        Assert.True(state.RecentAgentMessageIds.TryFind("agent-7:a1", out var a1) && a1 == 4);
        // Oldest first, as if remembered in order: the next trim forgets m1 before m2.
        Assert.Equal(2, state.RecentMessageIds.Count);

        // What a silo of the release before reads from a row written now: empty dictionaries, never null.
        var rewritten = serializer.Deserialize<ConversationRowWithDictionaries>(serializer.SerializeToArray(state))!;
        Assert.NotNull(rewritten.RecentMessageIds);
        Assert.Empty(rewritten.RecentMessageIds);
        Assert.NotNull(rewritten.RecentAgentMessageIds);
        Assert.Empty(rewritten.RecentAgentMessageIds);
        Assert.True(serializer.Deserialize<ConversationState>(serializer.SerializeToArray(state))!.RecentMessageIds.TryFind("m2", out _));
    }

    [Fact]
    public void The_old_fields_set_to_null_or_empty_after_the_packed_ones_change_nothing()
    {
        var state = new ConversationState();
        state.RecentMessageIds.Remember("m1", 2, keepAtLeast: 256);
        state.RecentAgentMessageIds.Remember("agent-7:a1", 4, keepAtLeast: 256);

        state.UnpackedRecentMessageIds = null;
        state.UnpackedRecentAgentMessageIds = null;
        state.UnpackedRecentMessageIds = [];
        state.UnpackedRecentAgentMessageIds = [];

        Assert.True(state.RecentMessageIds.TryFind("m1", out _));
        Assert.True(state.RecentAgentMessageIds.TryFind("agent-7:a1", out _));
    }
}

/// <summary>The fields of a conversation row from before the indexes were packed (same ids, the old types).</summary>
[GenerateSerializer]
public sealed class ConversationRowWithDictionaries
{
    [Id(0)] public Contracts.ConversationStatus Status { get; set; }

    [Id(15)] public Dictionary<ulong, long>? RecentMessageIds { get; set; }

    [Id(27)] public Dictionary<ulong, long>? RecentAgentMessageIds { get; set; }
}
