namespace ContactGrains.Bot.Matching;

/// <summary>
/// Working memory for one scoring call, kept per thread and reused so that matching a message allocates nothing
/// once a thread has warmed up. Never shared between threads and never held across calls.
/// </summary>
internal sealed class Scratch
{
    [ThreadStatic]
    private static Scratch? _current;

    internal char[] Normalized = new char[256];
    internal (int Start, int Length)[] Tokens = new (int, int)[64];

    internal double[] IntentMatched = new double[32];
    internal double[] TokenBest = new double[32];
    internal double[] ExampleMatched = new double[256];
    internal double[] Dot = new double[256];

    internal char[] Stems = new char[256];
    internal (int Start, int Length)[] StemRanges = new (int, int)[64];
    internal int[] CandidateStart = new int[64];
    internal int[] CandidateCount = new int[64];
    internal double[] TokenWeight = new double[64];
    internal int[] CandidateIds = new int[256];
    internal double[] CandidateQuality = new double[256];
    internal int[] DistinctTerms = new int[256];
    internal double[] DistinctQuality = new double[256];
    internal long[] Trigrams = new long[512];

    /// <summary>This thread's scratch space.</summary>
    internal static Scratch Current => _current ??= new Scratch();

    /// <summary>Grows <paramref name="array"/> (discarding its content) to hold at least <paramref name="size"/> items.</summary>
    internal static void Ensure<T>(ref T[] array, int size)
    {
        if (array.Length < size)
        {
            array = new T[Math.Max(size, array.Length * 2)];
        }
    }
}
