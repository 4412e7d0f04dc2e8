namespace ContactGrains.Persistence.Storage;

/// <summary>
/// How Orleans' ADO.NET grain storage identified a grain in <c>orleans_grain_state</c> (columns
/// <c>grainidn0</c>, <c>grainidn1</c>, <c>grainidextensionstring</c>), needed only to find the rows
/// a database upgraded from it still holds. A key that parses as a GUID (32 hex digits, optionally
/// <c>+extension</c>) was stored as the GUID's two halves; one that parses as a hexadecimal integer
/// (optionally <c>+extension</c>) as 0 and the integer; any other key as 0, 0 and the key itself.
/// </summary>
internal readonly record struct LegacyGrainKey(long N0, long N1, string? Extension)
{
    public static LegacyGrainKey Of(GrainId grainId)
    {
        if (grainId.TryGetGuidKey(out var guid, out var guidExtension))
        {
            Span<byte> bytes = stackalloc byte[16];
            guid.TryWriteBytes(bytes);
            return new LegacyGrainKey(BitConverter.ToInt64(bytes[..8]), BitConverter.ToInt64(bytes[8..]), guidExtension);
        }

        if (grainId.TryGetIntegerKey(out var integer, out var integerExtension))
        {
            return new LegacyGrainKey(0, integer, integerExtension);
        }

        return new LegacyGrainKey(0, 0, grainId.Key.ToString());
    }
}
