using System.Diagnostics;
using ContactGrains.Client;
using ContactGrains.Testing;

namespace ContactGrains.LoadTest;

/// <summary>
/// A server the load tester starts as a separate process (the echo server, a silo host):
/// <c>dotnet &lt;dll&gt; &lt;arguments&gt;</c>, its output in a log file. Its process id is the server's
/// own, so its CPU time can be read and <see cref="KillAsync"/> is a SIGKILL of the server itself.
/// Disposing it kills it if it still runs.
/// </summary>
internal sealed class ServerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StreamWriter _log;
    private readonly Lock _lock = new();
    private readonly List<(string Prefix, TaskCompletionSource<string> Line)> _waiting = [];

    private ServerProcess(string name, Process process, StreamWriter log, string logPath)
    {
        Name = name;
        _process = process;
        _log = log;
        LogPath = logPath;
    }

    public string Name { get; }

    public string LogPath { get; }

    public int ProcessId => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>The gRPC address, once known (given at start or read from the server's output).</summary>
    public string Address { get; set; } = "";

    /// <summary>Starts <paramref name="dll"/> with <paramref name="arguments"/>; its output goes to <c>{name}.log</c> in <paramref name="logDirectory"/>.</summary>
    public static ServerProcess Start(string name, string dll, IReadOnlyList<string> arguments, string logDirectory, string address = "")
    {
        var logPath = Path.Combine(logDirectory, $"{name}.log");
        var log = new StreamWriter(logPath) { AutoFlush = true };
        log.WriteLine($"$ dotnet {dll} {string.Join(' ', arguments)}");
        var start = new ProcessStartInfo(RepositoryBuild.DotnetHost)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetDirectoryName(dll)!,
        };
        start.ArgumentList.Add(dll);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["DOTNET_ENVIRONMENT"] = "Production";
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        var process = new Process { StartInfo = start };
        var server = new ServerProcess(name, process, log, logPath) { Address = address };
        process.OutputDataReceived += (_, line) => server.OnOutput(line.Data);
        process.ErrorDataReceived += (_, line) => server.OnOutput(line.Data);
        try
        {
            process.Start();
        }
        catch
        {
            log.Dispose();
            process.Dispose();
            throw;
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return server;
    }

    /// <summary>Runs <paramref name="dll"/> to its end (e.g. the silo's <c>migrate</c>); throws with its output if it fails or overruns.</summary>
    public static async Task RunToEndAsync(string name, string dll, IReadOnlyList<string> arguments, string logDirectory, TimeSpan timeout)
    {
        await using var run = Start(name, dll, arguments, logDirectory);
        try
        {
            await run._process.WaitForExitAsync().WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"{name} did not finish within {timeout.TotalSeconds:0} s.\n{run.LogTail()}");
        }

        if (run._process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{name} failed with exit code {run._process.ExitCode}.\n{run.LogTail()}");
        }
    }

    /// <summary>Waits for the server to print a line starting with <paramref name="prefix"/> and returns the rest of it.</summary>
    public async Task<string> WaitForLineAsync(string prefix, TimeSpan timeout)
    {
        var line = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lock)
        {
            _waiting.Add((prefix, line));
        }

        var exited = _process.WaitForExitAsync();
        var first = await Task.WhenAny(line.Task, exited, Task.Delay(timeout));
        if (first == line.Task)
        {
            return await line.Task;
        }

        throw new InvalidOperationException(first == exited
            ? $"{Name} exited with code {_process.ExitCode} before it was ready.\n{LogTail()}"
            : $"{Name} was not ready within {timeout.TotalSeconds:0} s.\n{LogTail()}");
    }

    /// <summary>Waits until the server's gRPC health service answers SERVING (the silo host).</summary>
    public async Task WaitServingAsync(TimeSpan timeout)
    {
        using var channel = ChannelClient.OpenChannel(Address);
        await GrpcHealthProbe.WaitServingAsync(channel.CreateCallInvoker(), _process, Name, timeout, () => LogTail());
    }

    /// <summary>CPU time (user and system) the server has used so far, in seconds; null once it is gone.</summary>
    public double? CpuSeconds() => HasExited ? null : Stats.CpuSeconds(ProcessId);

    /// <summary>SIGKILL, as a crash would: no shutdown, no goodbye to the cluster. Returns once it is dead.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
        }

        await _process.WaitForExitAsync();
    }

    /// <summary>The last lines of the server's output, for failure messages.</summary>
    public string LogTail(int lines = 30)
    {
        try
        {
            using var read = new FileStream(LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            var all = new StreamReader(read).ReadToEnd().Split('\n');
            return $"--- {Name} (pid {ProcessId}, {Address}) last lines of {LogPath} ---\n" + string.Join('\n', all.TakeLast(lines));
        }
        catch (IOException ex)
        {
            return $"--- {Name}: log unreadable ({ex.Message}) ---";
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }

            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        }
        catch (InvalidOperationException)
        {
            // Never started, or already reaped.
        }
        catch (TimeoutException)
        {
            // SIGKILLed but not reaped within 30 s: nothing more can be done from here.
        }
        finally
        {
            _process.Dispose();
            lock (_lock)
            {
                _log.Dispose();
            }
        }
    }

    private void OnOutput(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_lock)
        {
            try
            {
                _log.WriteLine(line);
            }
            catch (ObjectDisposedException)
            {
                // Output after the end.
            }

            foreach (var (prefix, waiter) in _waiting.Where(w => line.StartsWith(w.Prefix, StringComparison.Ordinal)))
            {
                waiter.TrySetResult(line[prefix.Length..].Trim());
            }
        }
    }
}
