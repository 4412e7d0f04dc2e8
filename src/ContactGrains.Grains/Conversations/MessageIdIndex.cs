using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace ContactGrains.Grains.Conversations;

/// <summary>
/// A conversation's deduplication index: for each recent message id, a 64-bit hash of it (see
/// <see cref="StableHash"/>) and the sequence the message was stored at, packed in one byte array
/// in the order they were remembered. It is part of the conversation's state, so it is copied (the
/// development storage) or serialized (PostgreSQL) on every stored message: one array copies and
/// serializes as a single block, where a dictionary of a few hundred entries was rebuilt entry by
/// entry each time. Lookups scan it from the newest entry (a resend is usually of a recent message).
/// </summary>
[GenerateSerializer, Alias("cg.MessageIdIndex")]
public sealed class MessageIdIndex
{
    /// <summary>
    /// Bytes per entry, little-endian: the 8-byte hash, then the sequence in 4 bytes (a conversation
    /// never holds four billion entries; a row stays the size the dictionary's was).
    /// </summary>
    public const int EntrySize = 12;

    private const int InitialCapacity = 8;

    // Entries 0.._count-1 are in use; the rest is room to remember more without reallocating.
    [NonSerialized] private byte[] _entries = [];
    [NonSerialized] private int _count;

    /// <summary>The entries in use, as stored: <see cref="EntrySize"/> bytes each, oldest first.</summary>
    [Id(0)]
    public ReadOnlyMemory<byte> Packed
    {
        get => _entries.AsMemory(0, _count * EntrySize);
        set
        {
            if (value.Length % EntrySize != 0)
            {
                throw new InvalidDataException($"A stored message-id index is {value.Length} bytes long, which is not a whole number of {EntrySize}-byte entries.");
            }

            // An array exactly as long as the entries is used as it is (deserializing and copying
            // hand over one of their own): it has no room, so the next entry moves to a new array
            // and nothing is ever written into it. Anything else is copied.
            _entries = MemoryMarshal.TryGetArray(value, out var segment) && segment.Offset == 0 && segment.Count == segment.Array!.Length
                ? segment.Array
                : value.ToArray();
            _count = value.Length / EntrySize;
        }
    }

    /// <summary>Message ids remembered.</summary>
    public int Count => _count;

    /// <summary>An index holding the entries of the dictionary that older rows stored instead (hash → sequence).</summary>
    public static MessageIdIndex FromDictionary(IReadOnlyDictionary<ulong, long>? hashes)
    {
        var index = new MessageIdIndex();
        if (hashes is null)
        {
            return index;
        }

        // In sequence order, so that trimming still forgets the oldest first.
        var ordered = hashes.ToArray();
        Array.Sort(ordered, static (a, b) => a.Value.CompareTo(b.Value));
        foreach (var (hash, sequence) in ordered)
        {
            index.Add(hash, sequence);
        }

        return index;
    }

    /// <summary>The sequence <paramref name="messageId"/> was stored at, if it is remembered.</summary>
    public bool TryFind(string messageId, out long sequence)
    {
        var hash = StableHash.Of(messageId);
        var entries = _entries.AsSpan(0, _count * EntrySize);
        for (var offset = entries.Length - EntrySize; offset >= 0; offset -= EntrySize)
        {
            if (BinaryPrimitives.ReadUInt64LittleEndian(entries[offset..]) == hash)
            {
                sequence = BinaryPrimitives.ReadUInt32LittleEndian(entries[(offset + 8)..]);
                return true;
            }
        }

        sequence = 0;
        return false;
    }

    /// <summary>
    /// Remembers that <paramref name="messageId"/> was stored at <paramref name="sequence"/> (the
    /// caller has checked that it is not remembered yet). Past twice <paramref name="keepAtLeast"/>
    /// entries, the older ones are forgotten down to <paramref name="keepAtLeast"/>: senders resend
    /// within minutes, not hundreds of messages later.
    /// </summary>
    public void Remember(string messageId, long sequence, int keepAtLeast)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(keepAtLeast, 1);
        Add(StableHash.Of(messageId), sequence);
        if (_count > 2 * keepAtLeast)
        {
            var kept = keepAtLeast * EntrySize;
            _entries.AsSpan((_count - keepAtLeast) * EntrySize, kept).CopyTo(_entries);
            _count = keepAtLeast;
        }
    }

    private void Add(ulong hash, long sequence)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(sequence);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(sequence, uint.MaxValue);
        var end = _count * EntrySize;
        if (end + EntrySize > _entries.Length)
        {
            var grown = new byte[Math.Max(InitialCapacity, 2 * _count) * EntrySize];
            _entries.AsSpan(0, end).CopyTo(grown);
            _entries = grown;
        }

        BinaryPrimitives.WriteUInt64LittleEndian(_entries.AsSpan(end), hash);
        BinaryPrimitives.WriteUInt32LittleEndian(_entries.AsSpan(end + 8), (uint)sequence);
        _count++;
    }
}
