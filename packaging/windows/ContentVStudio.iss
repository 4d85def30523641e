; Inno Setup 6 script: a per-user installer for ContentV Studio on Windows (x64).
;
; packaging/build.py compiles it after PyInstaller when ISCC.exe is found, as:
;   iscc /Qp /DAppVersion=0.1.0 /DBundleDir=<repo>\dist\ContentVStudio /DOutputDir=<repo>\dist
;        /DOutputBaseName=ContentVStudio-0.1.0-windows-x86_64-setup /DFlavor=cuda [/DSetupIcon=<ico>]
;        [/DSpanDisks=1 when the bundle is over 2 GiB]
;        packaging\windows\ContentVStudio.iss
; Every define has a default, so `iscc packaging\windows\ContentVStudio.iss` works after a plain build too.
;
; What it installs is exactly the PyInstaller bundle (packaging/ContentVStudio.spec, one-folder mode):
;   {app}\ContentVStudio.exe      the windowed executable (same arguments as main.py)
;   {app}\_internal\...            Python, torch, Qt, resources
; into %LOCALAPPDATA%\Programs\ContentV Studio (no administrator rights), with a Start-menu shortcut and, if
; ticked, a desktop shortcut. The user's data (settings, history, outputs, thumbnails, logs, downloaded models)
; lives in %LOCALAPPDATA%\ContentV Studio or the folder given with --data-dir: never under {app}, so neither an
; update nor the uninstaller touches it.

#define AppName "ContentV Studio"
#define AppExeName "ContentVStudio.exe"
#define AppPublisher "ContentV Studio contributors"

#ifndef AppVersion
  #define AppVersion "0.1.0"
#endif
#ifndef BundleDir
  #define BundleDir AddBackslash(SourcePath) + "..\..\dist\ContentVStudio"
#endif
#ifndef OutputDir
  #define OutputDir AddBackslash(SourcePath) + "..\..\dist"
#endif
#ifndef Flavor
  #define Flavor "cuda"
#endif
#ifndef OutputBaseName
  #if Flavor == "cpu"
    #define OutputBaseName "ContentVStudio-" + AppVersion + "-windows-x86_64-cpu-setup"
  #else
    #define OutputBaseName "ContentVStudio-" + AppVersion + "-windows-x86_64-setup"
  #endif
#endif

#if !FileExists(AddBackslash(BundleDir) + AppExeName)
  #error The bundle is missing: run `python packaging/build.py` first (no ContentVStudio.exe in BundleDir).
#endif

[Setup]
; AppId identifies the installation for updates and uninstall: never change it.
AppId={{8F3C2A61-5B0D-4E7A-9C1E-2D4B6A8F0C13}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher={#AppPublisher}
VersionInfoVersion={#AppVersion}
; Per user: no UAC prompt; {autopf} is then %LOCALAPPDATA%\Programs, shortcuts go to the user's own menus.
PrivilegesRequired=lowest
DefaultDirName={autopf}\{#AppName}
DisableProgramGroupPage=yes
DisableDirPage=auto
UsePreviousAppDir=yes
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
MinVersion=10.0
WizardStyle=modern
OutputDir={#OutputDir}
OutputBaseFilename={#OutputBaseName}
#ifdef SetupIcon
SetupIconFile={#SetupIcon}
#endif
UninstallDisplayIcon={app}\{#AppExeName}
UninstallDisplayName={#AppName}
CloseApplications=yes
RestartApplications=no
; The CUDA bundle is larger than 4 GB, more than one Setup file can hold: build.py defines SpanDisks for a bundle
; over 2 GiB, and Setup is then spanned over <name>.exe plus <name>-1.bin, -2.bin ... slices of at most
; 2,100,000,000 bytes (also under GitHub's 2 GiB limit per release asset). Keep every slice beside the .exe; Setup
; finds them itself. A smaller (CPU) build stays a single .exe.
#ifdef SpanDisks
DiskSpanning=yes
DiskSliceSize=max
SlicesPerDisk=1
#endif
Compression=lzma2/normal
SolidCompression=yes
LZMAUseSeparateProcess=yes
LZMANumBlockThreads=4

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[InstallDelete]
; An update replaces the program wholesale: libraries of an older torch or Qt must not linger beside new ones.
Type: filesandordirs; Name: "{app}\_internal"

[Files]
Source: "{#BundleDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\{#AppName}"; Filename: "{app}\{#AppExeName}"; WorkingDir: "{app}"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExeName}"; WorkingDir: "{app}"; Tasks: desktopicon

[Run]
Filename: "{app}\{#AppExeName}"; Description: "{cm:LaunchProgram,{#StringChange(AppName, '&', '&&')}}"; Flags: nowait postinstall skipifsilent

[UninstallDelete]
; Only the program: what Setup installed (removed anyway) and anything written inside _internal at run time.
; The user's data folder (%LOCALAPPDATA%\ContentV Studio, or --data-dir) is deliberately not listed: uninstalling
; keeps the outputs, history and settings, and a reinstall finds them again.
Type: filesandordirs; Name: "{app}\_internal"
