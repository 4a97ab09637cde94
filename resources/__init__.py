"""DeskLab's resources: SVG icons for actions and layer kinds, the app icon, a .desktop
entry. Installed as the package ``desklab.resources`` (see pyproject.toml)."""
