namespace ContactGrains.Cli;

/// <summary>The shared shape of both commands' options: <c>--name value</c> pairs over defaults, and the silo address.</summary>
internal static class OptionPairs
{
    /// <summary>Overrides <paramref name="values"/> (the defaults) with the pairs in <paramref name="args"/>; returns why it cannot, or null.</summary>
    public static string? Apply(IReadOnlyList<string> args, Dictionary<string, string> values)
    {
        for (var i = 0; i < args.Count; i += 2)
        {
            if (!values.ContainsKey(args[i]))
            {
                return $"Unknown option '{args[i]}'.";
            }

            if (i + 1 >= args.Count)
            {
                return $"Option '{args[i]}' needs a value.";
            }

            values[args[i]] = args[i + 1];
        }

        var address = values["--address"];
        return Uri.TryCreate(address, UriKind.Absolute, out var uri) && (uri.Scheme == "http" || uri.Scheme == "https")
            ? null
            : $"--address must be an http:// or https:// URL, not '{address}'.";
    }
}
