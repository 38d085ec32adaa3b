#!/usr/bin/env bash
# Packs Ring the way a release would, then builds and runs a throwaway consumer against the .nupkg (not the
# project), with every warning an error: what a user who adds the package gets. Also checks that the package
# carries its licence, readme and buildTransitive props, and that the symbol package embeds the sources.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

dotnet pack "$root/src/Ring" -c Release -o "$work/feed" --nologo -v quiet
package=$(ls "$work/feed"/Ring.*.nupkg)
version=$(basename "$package" .nupkg)
version=${version#Ring.}
echo "package-check: packed Ring $version"

contents=$(unzip -Z1 "$package")
for entry in LICENSE README.md buildTransitive/Ring.props lib/net10.0/Ring.dll lib/net10.0/Ring.xml; do
  grep -qx "$entry" <<<"$contents" || { echo "package-check: $entry is missing from the package" >&2; exit 1; }
done
unzip -p "$package" Ring.nuspec | grep -q '<license type="expression">MIT</license>' || { echo "package-check: no licence expression" >&2; exit 1; }
unzip -o -q "$work/feed/Ring.$version.snupkg" -d "$work/symbols"

mkdir "$work/consumer"
cat >"$work/consumer/nuget.config" <<XML
<configuration>
  <packageSources>
    <add key="local" value="$work/feed" />
  </packageSources>
</configuration>
XML
cat >"$work/consumer/Consumer.csproj" <<XML
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <OutputType>Exe</OutputType>
    <TargetFramework>net10.0</TargetFramework>
    <Nullable>enable</Nullable>
    <ImplicitUsings>enable</ImplicitUsings>
    <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
    <AnalysisLevel>latest-recommended</AnalysisLevel>
  </PropertyGroup>
  <ItemGroup>
    <PackageReference Include="Ring" Version="$version" />
  </ItemGroup>
</Project>
XML
cat >"$work/consumer/Program.cs" <<'CS'
using System.Reflection.Metadata;
using Ring;

if (args.Length == 1)
{
    // The symbol package's PDB: count the documents whose source text is embedded (EmbeddedSource debug info).
    Guid embeddedSource = new("0E8A571B-6926-466E-B4AD-8AB04611F5FE");
    using FileStream pdb = File.OpenRead(args[0]);
    using MetadataReaderProvider provider = MetadataReaderProvider.FromPortablePdbStream(pdb);
    MetadataReader metadata = provider.GetMetadataReader();
    int documents = metadata.Documents.Count;
    int embedded = metadata.CustomDebugInformation.Count(h => metadata.GetGuid(metadata.GetCustomDebugInformation(h).Kind) == embeddedSource);
    Console.WriteLine($"{embedded}/{documents}");
    return;
}

string directory = Path.Combine("/dev/shm", $"ring-package-check-{Environment.ProcessId}");
Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
try
{
    using RingSegment segment = RingSegment.Create(Path.Combine(directory, "check"), new RingOptions { Capacity = 4096 });
    using RingWriter writer = segment.CreateWriter();
    using RingReader reader = segment.CreateReader();
    writer.Write("hello from the package"u8);
    byte[] buffer = new byte[segment.MaxMessageLength];
    int length = reader.Read(buffer);
    Console.WriteLine(System.Text.Encoding.UTF8.GetString(buffer, 0, length));
}
finally
{
    Directory.Delete(directory, recursive: true);
}
CS
build=$(cd "$work/consumer" && dotnet build -c Release --packages "$work/packages" --nologo 2>&1) || { echo "$build" >&2; echo "package-check: the consumer does not build" >&2; exit 1; }
warnings=$(grep -Eo '[0-9]+ Warning\(s\)' <<<"$build" | awk '{print $1}')
[ "${warnings:-1}" = "0" ] || { echo "$build" >&2; echo "package-check: the consumer built with warnings" >&2; exit 1; }
output=$(cd "$work/consumer" && dotnet run -c Release --no-build)
[ "$output" = "hello from the package" ] || { echo "package-check: the consumer printed '$output'" >&2; exit 1; }
sources=$(cd "$work/consumer" && dotnet run -c Release --no-build -- "$work/symbols/lib/net10.0/Ring.pdb")
embedded=${sources%/*}
documents=${sources#*/}
[ "$embedded" -gt 0 ] && [ "$embedded" = "$documents" ] || { echo "package-check: the symbols embed $sources source files" >&2; exit 1; }
echo "package-check: a consumer of Ring $version builds with 0 warnings and runs; the symbols embed all $documents sources"
